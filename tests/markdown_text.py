"""Reading the README and docs/ pages as test_docs checks them: fenced code blocks, the shell
commands in them, relative links, heading anchors as GitHub makes them, and reference tables."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
COMMAND_SEPARATORS = {"|", "||", "&&", ";", "&", "|&"}
REDIRECTIONS = {">", ">>", "<", ">&", "&>"}
# What may stand before the command word: NAME=value assignments and a cron schedule's fields.
COMMAND_PREFIX = re.compile(r"[A-Za-z_]\w*=.*|[\d*/,-]+")


def fenced_blocks(text: str, *languages: str) -> list[str]:
    """The bodies of the fenced code blocks whose info string is one of `languages`."""
    return [body for lang, body in FENCE.findall(text) if lang in languages]


def prose(text: str) -> str:
    """The text without fenced blocks and inline code, where links are written."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def link_targets(text: str) -> list[str]:
    return LINK.findall(prose(text))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to '-'."""
    return {
        re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in HEADING.findall(text)
    }


def logical_lines(block: str) -> Iterator[str]:
    """A shell snippet's lines, joined at a trailing backslash or inside an open quote."""
    pending = ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        yield pending
        pending = ""
    if pending:
        yield pending


def simple_commands(line: str) -> Iterator[list[str]]:
    """The words of each simple command of one logical line, redirections left out."""
    lexer = shlex.shlex(re.sub(r"(?<=\s)[12](?=>)", "", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    skip = False
    for token in lexer:
        if token in COMMAND_SEPARATORS:
            yield words
            words, skip = [], False
        elif token in REDIRECTIONS:
            skip = True  # the target, and anything after it, is not the command's
        elif not skip:
            words.append(token)
    yield words


def smi_invocations(block: str) -> Iterator[list[str]]:
    """The arguments of every `smi ...` command in a shell snippet (also behind env assignments
    or a cron schedule)."""
    for line in logical_lines(block):
        for words in simple_commands(line):
            for index, word in enumerate(words):
                if word == "smi":
                    yield words[index + 1 :]
                if not COMMAND_PREFIX.match(word):
                    break


def table_options(text: str, heading_mark: str) -> set[str]:
    """The options named in the first column of the tables under every heading that contains
    `heading_mark`, up to the next heading."""
    found: set[str] = set()
    for section in re.split(r"^#{1,6} ", text, flags=re.MULTILINE):
        title, _, body = section.partition("\n")
        if heading_mark not in title:
            continue
        for row in re.findall(r"^\| `(.*?) \| ", body, re.MULTILINE):
            found.update(OPTION.findall(row))
    return found
