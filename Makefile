# kcolor — everyday commands. The first use of any target creates .venv from setup.cfg.
#
#   make train MODEL=pix2pix                       # offline sample data, a few minutes on a CPU
#   make train MODEL=unet_residual CONFIG=flowers  # a paper's recipe (needs its dataset)
#   make test
#
# Variables: MODEL, CONFIG, DATA, SET="key=value key=value", RUN, FORMAT, QUANTIZE, INPUT, OUT,
# SOURCE, NAME, REF (a color reference image for reference-guided models), VIDEOS.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kcolor-installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg

CONFIG ?= sample
MODEL ?=
DATA ?=
SET ?=
RUN ?= runs/sample-pix2pix
FORMAT ?= savedmodel
QUANTIZE ?= none
INPUT ?=
OUT ?= colorized
SOURCE ?= sample
NAME ?= sample
MODELS ?= autoencoder deep_cnn unet_residual resnet_color densenet_color pix2pix

OVERRIDES = $(if $(MODEL),--set model=$(MODEL)) $(if $(DATA),--set data=$(DATA)) $(foreach s,$(SET),--set $(s))

.PHONY: setup browser train test bench records pairs colorize export tflite compare clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# Headless Chromium for the browser tests (Debian packages; root or sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "Installing chromium and chromium-driver for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

train: $(STAMP)
	$(BIN)/kcolor train --config $(CONFIG) $(OVERRIDES)

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m kcolor.bench

records: $(STAMP)
	$(BIN)/kcolor make-records $(SOURCE) --name $(NAME)

pairs: $(STAMP)
	$(BIN)/kcolor make-pairs --videos $(VIDEOS) --name $(NAME)

colorize: $(STAMP)
	$(BIN)/kcolor colorize --model $(RUN) $(INPUT) --out $(OUT) --compare $(if $(REF),--reference $(REF))

export: $(STAMP)
	$(BIN)/kcolor export $(RUN) --format $(FORMAT) --quantize $(QUANTIZE)

tflite: $(STAMP)
	$(BIN)/kcolor export $(RUN) --format tflite --quantize $(QUANTIZE)

compare: $(STAMP)
	$(BIN)/python -m kcolor.compare --config $(CONFIG) --models "$(MODELS)" $(if $(DATA),--data $(DATA)) $(foreach s,$(SET),--set $(s))

clean:
	rm -rf runs tf_records exports colorized evaluations bench.json
