"""Token estimates: for budgeting what is sent to models, and for showing what streamed."""


def estimate_tokens(text: str) -> int:
    """About four characters a token: cheap, and close enough for budgeting."""
    return tokens_of_chars(len(text))


def tokens_of_chars(chars: int) -> int:
    """`estimate_tokens` of a text of `chars` characters (known without the text)."""
    return (chars + 3) // 4
