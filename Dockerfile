# The triage service. Build: docker build -t triagebot .   Run: docker run -p 8000:8000 triagebot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite+aiosqlite:////srv/data/triagebot.db

RUN useradd --create-home --uid 10001 triage
WORKDIR /srv/triagebot

COPY pyproject.toml README.md ./
COPY app ./app
COPY actions ./actions
COPY nlu_data ./nlu_data
COPY labelled ./labelled
COPY domain.yml ./
# Editable install: the service reads nlu_data/, domain.yml and the Alembic migrations from
# this folder at run time.
RUN pip install -e . && mkdir -p /srv/data && chown triage /srv/data

# The NLU models are built here, once, into the image's model cache: a container starts in
# about a second instead of rebuilding them (~4 s). The cache is keyed by the data and code
# it was built from; a stale one is rebuilt in memory (a read-only cache is never a failure).
ENV TRIAGE_MODEL_CACHE=/srv/triagebot/model-cache
RUN python -c "from app.triager import Triager; Triager()" && test -n "$(ls -A "$TRIAGE_MODEL_CACHE")"

# by number: a host without this user name still knows whom the files belong to
USER 10001
VOLUME ["/srv/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"]
CMD ["triagebot", "serve", "--host", "0.0.0.0", "--port", "8000"]
