# Compare: the two commands of the README, plus the set-up they need.
#   make demo   build and run the demo on the bundled example data
#   make test   build and run the whole test suite
SWIFT ?= swift
APT_PACKAGES := liblapacke-dev libopenblas-dev zlib1g-dev
HEADERS := /usr/include/lapacke.h /usr/include/zlib.h

.PHONY: demo test deps build bench clean cluster-test

demo: deps
	$(SWIFT) build -c release --product compare
	$$($(SWIFT) build -c release --show-bin-path)/compare demo

# The example programs must print what the commands they reproduce print; then the suite, which
# must leave nothing behind in its TMPDIR.
test: deps
	bash Examples/check.sh
	SWIFT="$(SWIFT)" bash Tests/run.sh

# A one-node Slurm cluster runs the job-array scripts of Examples/slurm (installs Slurm if missing).
cluster-test: deps
	bash Examples/slurm/cluster-test.sh

# Installs the system libraries when their headers are missing (Debian/Ubuntu, as root or via sudo).
deps:
	@missing=0; for h in $(HEADERS); do [ -f $$h ] || missing=1; done; \
	ls /usr/include/cblas.h /usr/include/*/cblas.h 2>/dev/null | grep -q . || missing=1; \
	if [ $$missing = 1 ]; then \
	  echo "Installing $(APT_PACKAGES) with apt-get (BLAS, LAPACKE and zlib headers are missing)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $(APT_PACKAGES) pkg-config; \
	fi

build: deps
	$(SWIFT) build -c release

bench: deps
	$(SWIFT) run -c release compare bench core

clean:
	rm -rf .build demo-output
