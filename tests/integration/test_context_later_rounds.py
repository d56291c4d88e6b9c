"""Later rounds see more of the repository: the files the plan and the accepted findings are
about, when the context chosen for the task did not send them, added to the round's message
(the cached prefix stays byte for byte what it was)."""

import asyncio
import dataclasses

from conftest import git
from counterpoint.config.layers import Settings
from counterpoint.core.context import ContextRules
from counterpoint.providers.replay import ReplayProvider
from counterpoint.workflow.launch import start_session
from counterpoint.workspace import Workspace
from tests.support.cassettes import cassette, exchange, finding, responses, review

RATES = "def discount_rate(customer):\n    '''The loyalty discount of a customer.'''\n    return 0.05\n" + "".join(
    f"\n\ndef tier_{i}_rate(customer):\n    return 0.0{i}\n" for i in range(10))
GEN_R1 = """I validate the arguments.

app.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a + b
=======
def add(a, b):
    if not isinstance(a, int) or not isinstance(b, int):
        raise TypeError("add() takes integers")
    return a + b
>>>>>>> REPLACE
```
"""


def _repo(git_repo):
    # Task-shaped files that take the whole budget, and a small unrelated one after them.
    for n in range(6):
        body = "".join(f"def validate_argument_{n}_{i}(a, b):\n    '''Validate the arguments of add.'''\n"
                       f"    return isinstance(a, int) and b != {i}\n\n" for i in range(150))
        (git_repo / f"validate_{n}.py").write_text(body)
    (git_repo / "billing").mkdir()
    (git_repo / "billing" / "rates.py").write_text(RATES)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "more files")


def _session(git_repo, tmp_path, verdict, dropped=()):
    _repo(git_repo)
    flagged = finding("billing/rates.py", 1, 3, "high", "correctness",
                      "discount_rate ignores the validation",
                      "The loyalty discount in billing/rates.py still takes any customer.")
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [
        exchange("generator", GEN_R1),
        exchange("responder", data=responses(("r1-a1", "agree", "Yes."))),
        exchange("generator", "Nothing more to change.\n"),
        exchange("responder", data=responses()),
    ])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5", [
        exchange("reviewer", data=review(flagged)),
        exchange("reviewer", data=review(verdict="approve")),
    ])
    settings = Settings(context=dataclasses.replace(ContextRules(), budget_tokens=10_000))
    orch = start_session(workspace=Workspace.open(git_repo), task="Validate the arguments of add.",
                         generator=gen, reviewers=[rev], rounds=2, settings=settings, context_dropped=dropped,
                         make_provider=lambda spec: ReplayProvider(spec.split(":", 1)[1]))
    assert asyncio.run(orch.run_round())
    assert "billing/rates.py" not in orch.conversation.context_whole  # the task's context is full
    cluster = orch.session.current.clusters[0]
    assert cluster.path == "billing/rates.py"
    orch.set_verdict(cluster.id, verdict)
    assert asyncio.run(orch.revise())
    return orch


def test_an_accepted_finding_brings_its_file_into_the_next_round(git_repo, tmp_path):
    orch = _session(git_repo, tmp_path, "accepted")
    instructions = orch.session.current.instructions
    assert "## More files for this round's findings" in instructions
    assert "### billing/rates.py\n```python\n" + RATES + "```" in instructions
    assert "validate_0.py" not in instructions.split("## More files", 1)[1]
    orch.close()


def test_a_rejected_finding_brings_nothing(git_repo, tmp_path):
    orch = _session(git_repo, tmp_path, "rejected")
    assert "## More files" not in orch.session.current.instructions
    orch.close()


def test_a_dropped_file_stays_out_even_when_an_accepted_finding_names_it(git_repo, tmp_path):
    orch = _session(git_repo, tmp_path, "accepted", dropped=["billing/rates.py"])
    assert "## More files" not in orch.session.current.instructions
    orch.close()


def test_the_files_a_plan_names_follow_it_in_every_later_request(git_repo, tmp_path):
    _repo(git_repo)
    plan = cassette(tmp_path / "plan.json", "anthropic:claude-haiku-4-5", [
        exchange("planner", "1. Validate in add.\n2. Make `discount_rate` in billing/rates.py check it too.\n"),
    ])
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [
        exchange("generator", GEN_R1), exchange("responder", data=responses()),
    ])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=review(verdict="approve"))])
    settings = Settings(context=dataclasses.replace(ContextRules(), budget_tokens=10_000))
    orch = start_session(workspace=Workspace.open(git_repo), task="Validate the arguments of add.",
                         generator=gen, reviewers=[rev], planner=plan, settings=settings,
                         make_provider=lambda spec: ReplayProvider(spec.split(":", 1)[1]))
    ok = asyncio.run(orch.run_round())
    r = orch.session.current
    assert ok, r.errors
    context = orch.conversation.generate(r).context
    assert context[-2].startswith("# Task") and "discount_rate" in context[-2]
    assert context[-1].startswith("## More files for this plan\n\n### billing/rates.py\n")
    assert orch.conversation.review(r, rev).context == context  # one prefix for every role after the plan
    orch.close()
