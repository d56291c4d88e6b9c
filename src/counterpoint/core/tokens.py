"""Token estimates: for budgeting what is sent to models, and for showing what streamed."""


def estimate_tokens(text: str) -> int:
    """About four characters a token: cheap, and close enough for budgeting."""
    return (len(text) + 3) // 4
