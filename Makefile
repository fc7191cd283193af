# kcolor — everyday commands. The first use of any target creates .venv from setup.cfg.
#
#   make train MODEL=pix2pix                       # the real-photo corpus (fetched on first use), minutes on a CPU
#   make photos                                    # fetch the real-photo corpus (PHOTOS=folder, default ~/.kcolor/photos)
#   make clips                                     # fetch the real video clips for evaluate-video (CLIPS=folder, default ~/.kcolor/clips)
#   make train MODEL=unet_residual CONFIG=flowers  # a paper's recipe (needs its dataset)
#   make test
#   make web RUN=runs/sample-pix2pix QUANTIZE=int8         # the browser page for a TFLite export, served
#   make demo NOTEBOOK=001                         # a notebook in its demo setting, saved with outputs in docs/
#   make benchmark DATA=sample STEPS=50            # every paper's models, one budget, one test split
#   make bench BENCH=peer                          # kcolor against its PyTorch peer only (pip install -e .[bench])
#   make bench BENCH=video                         # video colorization fps at 1280x720, beside ONNX Runtime (bench extra), and memory in the clip's length
#   make docs-figures                              # the README's pictures and benchmark table (the benchmark's time on two CPUs: DEFAULT_STEPS, kcolor/benchmark/roster.py)
#   make docs-steps                                # the README's "more steps" table (two models at 1600 and 3200 steps)
#   make docs-video                                # the README's video table and strip (evaluate-video on the benchmark's models)
#
# Variables: MODEL, CONFIG, DATA, SET="key=value key=value", RUN, FORMAT, QUANTIZE, INPUT, OUT,
# SOURCE, NAME, REF (a color reference image for reference-guided models), VIDEOS, SITE (kcolor web's folder),
# BENCH (all: the train-step bench; peer: only its comparison with PyTorch; video: kcolor.bench.video),
# SIZE and STEPS (make benchmark).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kcolor-installed
NPM_STAMP := node_modules/.kcolor-npm-installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export MPLBACKEND ?= Agg

CONFIG ?= photos
PHOTOS ?=
ifneq ($(PHOTOS),)
export KCOLOR_PHOTOS := $(abspath $(PHOTOS))
endif
CLIPS ?=
ifneq ($(CLIPS),)
export KCOLOR_CLIPS := $(abspath $(CLIPS))
endif
MODEL ?=
DATA ?=
SET ?=
RUN ?= $(if $(wildcard runs/photos-pix2pix),runs/photos-pix2pix,runs/sample-pix2pix)
FORMAT ?= savedmodel
QUANTIZE ?= none
INPUT ?=
OUT ?= colorized
SOURCE ?= sample
NAME ?= sample
SITE ?= site
NOTEBOOK ?= 001
DOCS ?= docs
BENCH ?= all
MODELS ?= autoencoder deep_cnn unet_residual resnet_color densenet_color pix2pix

OVERRIDES = $(if $(MODEL),--set model=$(MODEL)) $(if $(DATA),--set data=$(DATA)) $(foreach s,$(SET),--set $(s))

.PHONY: setup browser web train photos clips test bench benchmark records pairs colorize export tflite compare demo docs-figures docs-steps docs-deviations docs-video clean

$(STAMP): setup.cfg setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# Headless Chromium for the browser tests (Debian packages; root or sudo). Where they cannot
# be installed, the browser tests are skipped with one line at the end of `make test`
# (CI sets KCOLOR_REQUIRE_BROWSER=1, which fails them instead).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "Installing chromium and chromium-driver for the browser tests"; \
	  { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "make: could not install chromium (apt-get with root or sudo): the browser tests will be skipped"; }

# LiteRT.js for `kcolor web` and its tests (npm, from package-lock.json).
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "Installing nodejs and npm for kcolor web"; \
	  { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; } || true; }
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund && touch $(NPM_STAMP); else \
	  echo "make: npm is not installed and could not be (apt-get with root or sudo): the page tests will be skipped"; fi

# QUANTIZE picks one of the run's TFLite exports only when given on the command line.
web: $(STAMP) $(NPM_STAMP)
	$(BIN)/kcolor web $(RUN) --out $(SITE) $(if $(filter command line,$(origin QUANTIZE)),--quantize $(QUANTIZE))
	$(BIN)/kcolor web --serve $(SITE)

# The default config `photos` trains on the real-photo corpus, fetched on first use. Where it
# cannot be fetched, one line says why and what to do, and the run uses the offline `sample`
# photos (config `sample`) instead, so this command works on any fresh machine.
train: $(STAMP)
	@config="$(CONFIG)"; \
	if [ "$$config" = photos ] && [ -z "$(DATA)" ]; then \
	  if ! $(BIN)/kcolor fetch-photos > $(VENV)/fetch-photos.log 2>&1; then \
	    echo "make train: no real photos ($$(tail -n 1 $(VENV)/fetch-photos.log)); training on the offline sample photos instead (config sample). Run make photos where the archives can be reached."; \
	    config=sample; fi; fi; \
	echo "$(BIN)/kcolor train --config $$config $(OVERRIDES)"; \
	$(BIN)/kcolor train --config $$config $(OVERRIDES)

photos: $(STAMP)
	$(BIN)/kcolor fetch-photos

clips: $(STAMP)
	$(BIN)/kcolor fetch-clips

test: $(STAMP) browser $(NPM_STAMP)
	$(BIN)/lint-imports --no-cache  # the floors of ARCHITECTURE.md: an upward import fails here, naming its line
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25  # two workers: many tests wait on one core; the slowest tests listed

bench: $(STAMP)
	$(if $(filter-out all peer video,$(BENCH)),$(error BENCH=$(BENCH) is not valid. Valid values: all, peer, video))
	$(if $(filter video,$(BENCH)),$(BIN)/python -m kcolor.bench.video,$(BIN)/python -m kcolor.bench $(if $(filter peer,$(BENCH)),--peer only))

# SIZE, STEPS and DATA are passed on only when given (the command's defaults otherwise).
benchmark: $(STAMP)
	$(BIN)/kcolor benchmark $(if $(DATA),--data $(DATA)) $(if $(SIZE),--size $(SIZE)) $(if $(STEPS),--steps $(STEPS))

records: $(STAMP)
	$(BIN)/kcolor make-records $(SOURCE) --name $(NAME)

pairs: $(STAMP)
	$(BIN)/kcolor make-pairs --videos $(VIDEOS) --name $(NAME)

colorize: $(STAMP)
	$(BIN)/kcolor colorize --colorizer $(RUN) $(INPUT) --out $(OUT) --compare $(if $(REF),--reference $(REF))

export: $(STAMP)
	$(BIN)/kcolor export $(RUN) --format $(FORMAT) --quantize $(QUANTIZE)

tflite: $(STAMP)
	$(BIN)/kcolor export $(RUN) --format tflite --quantize $(QUANTIZE)

compare: $(STAMP)
	$(BIN)/python -m kcolor.compare --config $(CONFIG) --models "$(MODELS)" $(if $(DATA),--data $(DATA)) $(foreach s,$(SET),--set $(s))

# Not CI: executes notebooks/$(NOTEBOOK)_*.ipynb with SETTINGS="demo" (minutes, on the real-photo
# corpus, fetched first if missing) into $(DOCS)/<notebook>.demo.ipynb, outputs kept; its run folders
# go to runs/notebook-$(NOTEBOOK)-demo/, deleted first (a demo runs from scratch).
demo: $(STAMP)
	$(BIN)/kcolor fetch-photos
	$(BIN)/python scripts/run_notebook.py $(NOTEBOOK) --settings demo --out $(DOCS) --fresh

# The README's pictures and its benchmark table, each made by kcolor's own commands: the
# real-photo corpus, the default benchmark on it (resumes a finished or cut run), then
# scripts/docs_benchmark.py copies results.json, table.png and the full-resolution test-photo
# grids to docs/benchmark/ and renders the README's benchmark block from that results.json.
# The README's video table and strip: the benchmark's pix2pix and autoencoder (none, flow)
# and stable_colorizer (none, reference) on the three real clips (street, phone call, Big Buck
# Bunny's 720p frames) and the synthetic pans and zooms.
VIDEO_CLIPS = $(HOME)/.kcolor/clips/bikes.mp4 $(HOME)/.kcolor/clips/carphone.mp4 $(HOME)/.kcolor/clips/bigbuckbunny.mp4 evaluations/video-synthetic
docs-video: $(STAMP)
	$(BIN)/kcolor fetch-clips
	$(BIN)/python -c "__import__('kcolor.data.clips').data.clips.write_synthetic_clips('evaluations/video-synthetic')"
	$(BIN)/kcolor evaluate-video --colorizer benchmarks/photos-64px/runs/pix2pix --temporal none,flow --out evaluations/video-pix2pix $(VIDEO_CLIPS)
	$(BIN)/kcolor evaluate-video --colorizer benchmarks/photos-64px/runs/autoencoder --temporal none,flow --out evaluations/video-autoencoder $(VIDEO_CLIPS)
	$(BIN)/kcolor evaluate-video --colorizer benchmarks/photos-64px/runs/stable_colorizer --temporal none,reference --reference $(HOME)/.kcolor/photos/castle-maintenon.jpg --out evaluations/video-stable $(VIDEO_CLIPS)
	$(BIN)/python scripts/docs_video.py evaluations/video-pix2pix evaluations/video-autoencoder evaluations/video-stable

docs-deviations: $(STAMP)
	$(BIN)/python scripts/docs_deviations.py

docs-figures: $(STAMP)
	$(BIN)/kcolor fetch-photos
	$(BIN)/kcolor benchmark --out benchmarks/photos-64px
	$(BIN)/python scripts/docs_benchmark.py benchmarks/photos-64px --docs $(DOCS)/benchmark

# The README's "more steps" table: two fast models of the default benchmark again with 1600
# and 3200 steps (2x and 4x the 800 it had then; 500 now), scored on the same test split,
# rendered beside the default run's rows.
STEPS_MODELS = autoencoder,vit_gan
docs-steps: $(STAMP)
	$(BIN)/kcolor fetch-photos
	$(BIN)/kcolor benchmark --models $(STEPS_MODELS) --steps 1600 --no-fid --out benchmarks/steps-1600
	$(BIN)/kcolor benchmark --models $(STEPS_MODELS) --steps 3200 --no-fid --out benchmarks/steps-3200
	$(BIN)/python scripts/docs_benchmark.py --docs $(DOCS)/benchmark --steps-runs benchmarks/steps-1600 benchmarks/steps-3200

clean:
	rm -rf runs tf_records exports colorized evaluations benchmarks bench.json bench_video.json $(SITE)
