# Systems Design Fundamentals. `make book` and `make test` each do all the set-up they need.
.PHONY: book test lab doctor bench setup clean help

book: setup          ## build the book, every lab executed against real servers
	.venv/bin/python scripts/build_book.py

test:                ## the whole test suite (builds the book, runs lab, unit and browser tests)
	scripts/setup.sh --browser
	.venv/bin/python -m pytest

lab: setup           ## JupyterLab on labs/ (http://127.0.0.1:8888)
	.venv/bin/jupyter lab --ip 127.0.0.1 --notebook-dir labs $$([ "$$(id -u)" = 0 ] && echo --allow-root)

doctor:              ## which server binaries the labs will use, and how to install what is missing
	@[ -x .venv/bin/python ] || scripts/setup.sh
	.venv/bin/python -m labsupport doctor

bench: setup         ## time-to-ready per service, cold book build time, per-lab execution time
	.venv/bin/python scripts/bench.py

setup:
	scripts/setup.sh

clean:               ## remove build outputs (keeps .venv)
	rm -rf _build

help:
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/\t/'
