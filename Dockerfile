# syntax=docker/dockerfile:1
# smi in a container: the `build` stage makes smi's wheel and a virtual environment holding it
# and its run-time dependencies; the final stage copies only that environment onto a fresh slim
# Python, with no compiler, no wheel and no pip cache. It runs as a fixed non-root UID/GID and
# writes nothing outside /tmp, so it works with a read-only root file system (mount a tmpfs or
# an emptyDir on /tmp). See docs/deploy.md.
#
#   docker build -t smi .                           # with moto: `docker run smi collect --demo`
#   docker build --build-arg SMI_DEMO=false -t smi .   # without moto, for scheduled runs only
#
# The base is pinned by tag (bump it for Python security releases; pin its digest with
# `python:TAG@sha256:...` where builds must be reproducible).
ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# Only what the wheel is built from (the .dockerignore keeps tests, .git and caches out).
COPY pyproject.toml README.md ./
COPY sagemaker_inventory ./sagemaker_inventory
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .
# `collect --demo` needs moto's in-process mock only: plain `moto`, not the `demo` extra's
# moto[server], whose web server and CloudFormation linter would more than double the installed
# environment.
ARG SMI_DEMO=true
ARG DEMO_REQUIREMENT="moto>=5.1"
RUN python -m venv /opt/smi \
    && /opt/smi/bin/pip install --no-cache-dir /wheels/*.whl \
    && if [ "$SMI_DEMO" = "true" ]; then \
           /opt/smi/bin/pip install --no-cache-dir "$DEMO_REQUIREMENT"; \
       fi \
    && /opt/smi/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
# A fixed UID/GID, so that runAsUser, file ownership on volumes and policies can name it. The
# base's own pip goes: nothing is installed at run time, and an installer is one tool less.
RUN groupadd --gid 10001 smi \
    && useradd --uid 10001 --gid 10001 --home-dir /home/smi --create-home \
       --shell /usr/sbin/nologin smi \
    && python -m pip uninstall --yes --no-cache-dir pip
# pip compiled every module when it installed it, so nothing needs to write bytecode at run time.
COPY --from=build /opt/smi /opt/smi
# HOME stays read-only (mount AWS config there: /home/smi/.aws); every place smi or Python might
# write points under /tmp. PYTHONUNBUFFERED is left off on purpose: records on stdout stay
# block-buffered (stderr, where progress goes, is line-buffered anyway).
ENV PATH=/opt/smi/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/smi \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_STATE_HOME=/tmp/.local/state \
    XDG_DATA_HOME=/tmp/.local/share
# /tmp is the one writable place. Declared a volume so that ECS on Fargate gives its bind mount
# /tmp's mode from the image (1777) rather than root's 0755, and so that a plain
# `docker run --read-only` gets a writable anonymous volume there (removed by --rm).
VOLUME ["/tmp"]
WORKDIR /tmp
USER 10001:10001
ENTRYPOINT ["smi"]
CMD ["--help"]
