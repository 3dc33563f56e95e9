# One command per habit. `make run` and `make test` are what README's quick start calls.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: setup run test lint bench load validate clean

$(VENV_STAMP): requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV_STAMP)

setup: $(VENV_STAMP)

run: setup
	$(PY) -m assessment demo
	$(PY) -m assessment user init
	$(PY) -m streamlit run app.py

test: setup
	scripts/system-deps.sh
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 --dist loadfile --durations=15

lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) bench/score_bench.py
	$(PY) bench/rerun_bench.py
	$(PY) bench/answer_click_bench.py
	$(PY) bench/page_bench.py

load: setup
	$(PY) bench/load_test.py

validate: setup
	$(PY) -m assessment validate questionnaires/*.yaml questionnaires/actions/*.yaml benchmarks/*.yaml

clean:
	rm -rf .venv .pytest_cache .ruff_cache .hypothesis
