# The two commands: `make run` and `make test`. Both install what is missing.
.PHONY: setup run test quick lint bench soak screenshots clean-db fuzz

setup:
	bash scripts/setup.sh

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# The developer's loop: the add-ons' tests on a kept database (TESTS=... for some files).
quick:
	TESTS="$(TESTS)" bash scripts/quick.sh

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
	dropdb -h 127.0.0.1 --if-exists opportunity_registration_quick
