# Two commands do all set-up on a fresh machine: `make chat` and `make test`.
.PHONY: chat test setup setup-dev check bench

chat:        ## install and open the chat on the default profile
	bash scripts/chat.sh

test:        ## install with dev tools and run lint, types, import contracts and all tests
	bash scripts/setup.sh --dev
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

setup-dev:
	bash scripts/setup.sh --dev

check:       ## the checks only, without installing
	bash scripts/test.sh

bench:
	.venv/bin/insitu bench generate
