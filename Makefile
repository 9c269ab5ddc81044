# diffcli: `make demo` runs the main job on built-in data, `make test` passes the tests.
# Both create .venv and install what they need, so they work on a fresh machine with Python 3.11.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-rf-cat

.PHONY: demo demo-digits test lint install bench-speed reference clean-demo

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The linter (ruff, configured in pyproject.toml), then the suite.
test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# Train rectified flow on the cat (configs/rf_cat.toml), bench the samplers, draw the plots.
demo: $(STAMP)
	$(BIN)/diffcli train --config configs/rf_cat.toml --name $(DEMO) --overwrite
	$(BIN)/diffcli bench $(DEMO) --solvers euler,heun,tsit5 --steps 10,20,50,100 --tols 5e-2,1e-2,1e-3,5e-4 --seeds 5
	$(BIN)/diffcli plot $(DEMO)
	@echo "plots: runs/$(DEMO)/plots/   bench: runs/$(DEMO)/bench.csv"

# Class-conditional rectified flow on the 8×8 digits (configs/rf_digits.toml): train, bench the
# guidance scales (class accuracy and Fréchet distance in a local classifier's features), draw the
# samples per class and guidance scale, the x_t strip and the guidance curve.
DIGITS ?= demo-rf-digits
demo-digits: $(STAMP)
	$(BIN)/diffcli train --config configs/rf_digits.toml --name $(DIGITS) --overwrite
	$(BIN)/diffcli bench $(DIGITS) --solvers euler,heun --steps 10,20 --tols '' --seeds 3 --guidance 0,0.5,1,2,4
	$(BIN)/diffcli plot $(DIGITS)
	@echo "plots: runs/$(DIGITS)/plots/   bench: runs/$(DIGITS)/bench.csv"

# The reference model (uniform-square source, constant lr, no EMA) benched like the reference table.
reference: $(STAMP)
	$(BIN)/diffcli train --config configs/rf_cat_reference.toml --name reference-rf-cat --overwrite
	$(BIN)/diffcli bench reference-rf-cat --solvers euler,heun,tsit5 --steps 10,20,50,100 --tols 5e-2,1e-2,1e-3 --seeds 5 --norm rms

# Training steps/s and sampling ms/NFE against bare jitted loops, side by side in one process.
bench-speed: $(STAMP)
	$(BIN)/python benchmarks/speed.py
