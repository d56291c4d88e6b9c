"""Retrieval for a task: mentions, symbols, BM25, the reference graph, priors, partial files."""

from counterpoint.core.context import REASON_BUDGET, ContextRules, assemble, estimate_tokens
from counterpoint.core.index import blob_id, build_index
from counterpoint.core.retrieval import file_kind, rank

FILES = {
    "src/shop/urls.py": "def url_for(endpoint, **values):\n    '''Build a URL for an endpoint.'''\n"
                        "    return '/' + endpoint\n",
    "src/shop/views.py": "from shop.urls import url_for\n\ndef index_view(request):\n"
                         "    return url_for('index')\n",
    "src/shop/cart.py": "class Cart:\n    '''A shopping basket with line items.'''\n"
                        "    def add_item(self, item):\n        self.items.append(item)\n",
    "src/shop/tax.py": "def vat_rate(country):\n    '''Value added tax for a country.'''\n"
                       "    return 0.2\n",
    "src/shop/app.py": "from shop.views import index_view\n\ndef create_app():\n"
                       "    return [index_view]\n",
    "tests/test_urls.py": "from shop.urls import url_for\n\ndef test_url_for():\n"
                          "    assert url_for('x') == '/x'\n",
    "docs/urls.md": "# URLs\n\nHow url_for builds a URL for an endpoint.\n",
    "README.md": "A shop.\n",
}


def index_of(files=FILES):
    return build_index({p: blob_id(t) for p, t in files.items()}, files.get)


def order(task, files=FILES, **kw):
    return [r.path for r in rank(task, index_of(files), sorted(files), **kw)]


def test_a_symbol_the_task_names_finds_its_definition():
    ranked = rank("Make `url_for` keep the query string", index_of(), sorted(FILES))
    assert ranked[0].path == "src/shop/urls.py"
    assert ranked[0].reason == "defines url_for"


def test_an_english_word_of_the_task_is_not_a_symbol_unless_quoted():
    # Rust's `fn from` (the From trait) in many files: "from" in a sentence names none of them
    files = {**FILES, **{f"core/src/conv{i}.rs": "impl From<u8> for T {\n    fn from(v: u8) -> T { T }\n}\n"
                         for i in range(3)}}
    index = index_of(files)

    def scores(task):
        return {r.path: r.score for r in rank(task, index, sorted(files)) if r.path.endswith(".rs")}

    assert scores("Return the tax rate from the country") == scores("Return the tax rate of the country")
    quoted = rank("Make `from` accept a u16", index, sorted(files))
    assert quoted[0].reason == "defines from" and quoted[0].path.startswith("core/src/conv")


def test_the_tests_of_the_best_file_follow_it_and_docs_come_later():
    ranked = order("Make `url_for` keep the query string")
    assert ranked.index("tests/test_urls.py") < ranked.index("docs/urls.md")
    assert ranked.index("src/shop/urls.py") < ranked.index("tests/test_urls.py")


def test_lexical_relevance_finds_behaviour_described_in_words():
    assert order("the basket should refuse duplicate line items")[0] == "src/shop/cart.py"
    assert order("wrong value added tax for some countries")[0] == "src/shop/tax.py"


def test_explicit_path_mentions_win():
    assert order("tidy src/shop/app.py please")[0] == "src/shop/app.py"
    assert order("tidy app.py please")[0] == "src/shop/app.py"


def test_reference_graph_brings_the_neighbours_of_what_is_named():
    ranked = order("Make `url_for` keep the query string")
    # views.py uses url_for; cart.py and tax.py have nothing to do with it
    assert ranked.index("src/shop/views.py") < ranked.index("src/shop/cart.py")
    assert ranked.index("src/shop/views.py") < ranked.index("src/shop/tax.py")


def test_kind_priors_yield_to_a_task_about_docs_or_tests():
    assert file_kind("tests/test_urls.py") == "test" and file_kind("docs/urls.md") == "doc"
    assert file_kind("examples/app.py") == "doc" and file_kind("src/a.py") == "source"
    assert order("update the docs about url endpoints")[0] == "docs/urls.md"


def test_recently_changed_files_break_a_vague_task():
    assert order("more defensive condition", recent={"src/shop/tax.py": 1.0})[0] == "src/shop/tax.py"


def test_ties_are_broken_deterministically_whatever_the_input_order():
    index = index_of()
    first = rank("something vague", index, sorted(FILES))
    again = rank("something vague", index, list(reversed(sorted(FILES))))
    assert first == again


def test_a_big_file_is_sent_in_part_with_its_relevant_definitions():
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(400))
    big = filler + "def apply_discount(cart, code):\n    '''The discount code.'''\n    return cart\n"
    files = {"src/pricing.py": big, "src/other.py": "def other():\n    pass\n"}
    rules = ContextRules(budget_tokens=3000)
    bundle = assemble("Fix apply_discount for expired codes", index_of(files), files.get,
                      sorted(files), rules)
    sent = {f.path: f for f in bundle.files}
    assert sent["src/pricing.py"].partial
    text = bundle.blocks[1]
    assert "def apply_discount(cart, code):" in text and "⋮ (lines" in text
    assert "def helper_200" not in text
    assert bundle.tokens <= rules.budget_tokens
    assert sum(estimate_tokens(b) for b in bundle.blocks) == bundle.tokens


def test_a_file_that_cannot_fit_even_in_part_is_left_out_without_being_read():
    # each module's head (first lines) alone is bigger than what is left once one is sent
    head = "".join(f"IMPORTED_NAME_{i} = 'a rather long constant value number {i}'\n" for i in range(12))
    files = {f"src/m{i}.py": head + "".join(f"def discount_{i}_{k}(x):\n    return x\n\n" for k in range(300))
             for i in range(20)}
    reads = []

    def read(path):
        reads.append(path)
        return files[path]

    index = index_of(files)
    rules = ContextRules(budget_tokens=2500)  # two excerpts leave room, but less than a head
    bundle = assemble("discount is wrong", index, read, sorted(files), rules)
    sent = [f.path for f in bundle.files]
    assert sent and all(f.partial for f in bundle.files)
    judged = [p for p, why in bundle.omitted.items() if why == REASON_BUDGET]
    assert judged  # offered, and left out for the budget...
    assert set(reads) == set(sent)  # ...by the index's sizes and heads, without reading them


def test_the_map_is_ranked_with_signatures_and_names_what_it_lists():
    files = {f"pkg/mod{i}.py": f"def function_{i}():\n    pass\n" + "# pad\n" * 400 for i in range(30)}
    files["pkg/target.py"] = "def compute_checksum(data):\n    return 0\n" + "# pad\n" * 400
    rules = ContextRules(budget_tokens=2500)
    bundle = assemble("compute_checksum is wrong", index_of(files), files.get, sorted(files), rules)
    map_block = bundle.blocks[0]
    assert "pkg/target.py" in {f.path for f in bundle.files} | set(bundle.map_files)
    assert set(bundle.map_files) <= set(files)
    assert all(p in map_block for p in bundle.map_files)
    assert "def function_" in map_block  # signatures
    assert bundle.tokens <= rules.budget_tokens


def test_forced_and_dropped_files():
    rules = ContextRules(budget_tokens=4000)
    bundle = assemble("Make `url_for` keep the query string", index_of(), FILES.get,
                      sorted(FILES), rules, forced=["README.md"], dropped=["src/shop/urls.py"])
    sent = [f.path for f in bundle.files]
    assert sent[0] == "README.md" and bundle.files[0].reason == "added by you"
    assert "src/shop/urls.py" not in sent
    assert bundle.omitted["src/shop/urls.py"] == "dropped by you"


def test_assembly_is_byte_identical_for_the_same_inputs():
    rules = ContextRules(budget_tokens=1500)
    one = assemble("url endpoints and tax", index_of(), FILES.get, sorted(FILES), rules)
    two = assemble("url endpoints and tax", index_of(), FILES.get, list(reversed(sorted(FILES))), rules)
    assert "".join(one.blocks).encode() == "".join(two.blocks).encode()
    assert one == two


def test_more_files_adds_what_a_later_text_is_about_and_nothing_already_sent():
    from counterpoint.core.context import more_files

    files = {**FILES, ".env": "SECRET=1\n", "src/shop/secret_rates.py": "API_KEY = 'sk-live-1234567890abcdef1234'\n"}
    index = index_of(files)
    rules = ContextRules(budget_tokens=20_000)
    block, sent = more_files("the `vat_rate` of tax.py is wrong for some countries; see .env and secret_rates.py",
                             index, files.get, sorted(files), rules,
                             already=["src/shop/cart.py"], heading="round's findings")
    paths = [f.path for f in sent]
    assert paths[0] == "src/shop/tax.py"
    assert block.startswith("## More files for this round's findings\n")
    assert "def vat_rate(country):" in block
    # never a secret, never what was sent already, never a file only central or linked
    assert ".env" not in paths and "src/shop/secret_rates.py" not in paths and "sk-live" not in block
    assert "src/shop/cart.py" not in paths and "README.md" not in paths
    again = more_files("the `vat_rate` of tax.py is wrong", index, files.get, sorted(files), rules,
                       already=["src/shop/tax.py"], heading="plan")
    assert "src/shop/tax.py" not in [f.path for f in again[1]]


def test_more_files_is_empty_for_a_text_about_nothing_in_the_repository():
    from counterpoint.core.context import more_files

    assert more_files("zzz qqq", index_of(), FILES.get, sorted(FILES), ContextRules(),
                      already=[], heading="plan") == ("", ())


def test_more_files_keeps_within_its_share_of_the_budget():
    from counterpoint.core.context import MORE_SHARE, more_files

    filler = "".join(f"def vat_helper_{i}(x):\n    '''vat rate helper'''\n    return x + {i}\n\n"
                     for i in range(600))
    files = {**FILES, "src/shop/vat_tables.py": filler}
    rules = ContextRules(budget_tokens=20_000)
    block, sent = more_files("vat rate helper tables", index_of(files), files.get, sorted(files), rules,
                             already=[], heading="plan")
    assert sent and sum(f.tokens for f in sent) <= rules.budget_tokens // MORE_SHARE
    assert any(f.partial for f in sent if f.path == "src/shop/vat_tables.py")
