# The two commands: `make run` and `make test`. Both install what is missing.
.PHONY: setup run test lint bench soak screenshots clean-db fuzz

setup:
	bash scripts/setup.sh

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

bench:
	bash benchmarks/run.sh

soak:
	bash benchmarks/soak.sh

fuzz:
	bash scripts/fuzz.sh

screenshots:
	bash scripts/screenshots.sh

clean-db:
	dropdb -h 127.0.0.1 --if-exists opportunity_registration
	dropdb -h 127.0.0.1 --if-exists opportunity_registration_test
