"""Typed settings for every Auskunft process, from ``AUSKUNFT_*`` environment variables or ``.env``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

from pydantic import BaseSettings, Field, SecretStr, root_validator, validator

from bot.config.decision import DecisionConfig

if TYPE_CHECKING:
    from bot.config.agencies import Agencies

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_SECRET_LENGTH = 32  # api_token, actions_api_token, vector_key
FIXED_BY = frozenset({"answer_threshold", "clarify_threshold", "min_margin"})  # set explicitly: no calibration


class Settings(BaseSettings):
    """All configuration in one place; each field is ``AUSKUNFT_<NAME>`` in the environment."""

    home: Path = Field(PROJECT_ROOT / ".auskunft", description="runtime data: index, models, databases")
    kb_dir: Path = Field(PROJECT_ROOT / "kb", description="the FAQ markdown files")
    agencies_file: Path = Field(PROJECT_ROOT / "agencies.yml", description="several agencies in one deployment, "
                                "each with its own kb layers and widget key (see bot/config/agencies.py); "
                                "no file = one agency with kb_dir")
    embedding_model: str = Field("", description="sentence-transformers name or path; empty = provisioned default")
    encoder: str = Field("onnx", regex="^(onnx|onnx-int8|sentence-transformers)$",
                         description="how queries are embedded: the model's ONNX graph in ONNX Runtime (fp32, equal to "
                         "sentence-transformers), its int8 copy, or sentence-transformers (torch, the train extra)")
    encoder_threads: int = Field(1, ge=1, le=64)
    embed_in_web: bool = Field(True, description="the web service embeds citizens' messages in micro-batches and "
                               "hands Rasa the signed vectors; off: every Rasa process embeds (and holds the model)")
    batch_window_ms: float = Field(3.0, ge=0, le=50, description="how long a message waits for others to share its "
                                   "embedding pass (web service)")
    finetune_epochs: int = Field(0, ge=0, le=20, description="fine-tune the model on the kb at each kb build "
                                 "(minutes; the running bot then loads it); 0 = off, the kb adapter only")
    default_language: str = Field("de", regex="^(de|en)$")

    thresholds: str = Field("calibrated", regex="^(calibrated|fixed)$", description="calibrated: each index's own "
                            "thresholds, chosen at build on probes from its kb (bot/calibration); fixed: the three "
                            "values below. Setting any of them explicitly also fixes them")
    answer_threshold: float = DecisionConfig.answer_threshold
    clarify_threshold: float = DecisionConfig.clarify_threshold
    min_margin: float = DecisionConfig.min_margin
    max_choices: int = 3
    max_misses: int = 2
    smalltalk_floor: float = Field(DecisionConfig.smalltalk_floor, description="a message gets small talk only if "
                                   "its nearest conversational example is at least this similar (bench/routing.py)")
    smalltalk_margin: float = Field(DecisionConfig.smalltalk_margin, description="... and at least this much more "
                                    "similar than the closest FAQ phrasing")
    withdraw_overdue: bool = Field(False, description="entries past their review_by date are not given as answers; "
                                   "such questions are handed to a person instead")
    editor_review: bool = Field(False, description="review queue for the editors' browser form: saving an entry "
                                "creates a draft that a second editor approves (only then is the file written "
                                "and committed) or rejects; off: saving writes the file at once")

    host: str = Field("127.0.0.1", description="address the web service (widget, citizen API, inbox) listens on")
    access_log: bool = Field(False, description="uvicorn's access log of the web service (client addresses and "
                             "paths: personal data, so off by default; /metrics counts requests by route instead)")
    internal_host: str = Field("127.0.0.1", description="address Rasa and the action server listen on and are "
                               "reached at; they have no access control of their own (Rasa would bypass the web "
                               "service's limits, the action server creates tickets): keep them on loopback or a "
                               "private network, never on a public address")
    rasa_url: str = Field("", description="comma-separated base URLs of the Rasa processes the web service talks "
                          "to when they run elsewhere (other hosts, containers), e.g. "
                          "http://10.0.0.11:5005,http://10.0.0.12:5005; a conversation always goes to the same one "
                          "(the next one only while that one refuses connections); empty = rasa_workers processes "
                          "on internal_host from rasa_port up")
    internal_token: Optional[SecretStr] = Field(None, description="shared secret between the web service, Rasa and "
                                                "the action server (header X-Auskunft-Internal): when set, Rasa's REST "
                                                "channel and the action server refuse calls without it (401); set it "
                                                "whenever they listen on anything but loopback")
    rasa_port: int = 5005
    rasa_workers: int = Field(0, ge=0, le=32, description="Rasa processes, each on its own port from rasa_port up "
                              "(a conversation always goes to the same one); 0 = one per CPU core")
    action_port: int = 5055
    web_port: int = 8000
    metrics_port_actions: Optional[int] = Field(None, ge=0, le=65535, description="port of the action server's "
                                                "Prometheus metrics (/metrics on internal_host, no access control "
                                                "of its own); not set: action_port + 1000; 0 = no metrics server")
    metrics_port_offset_rasa: int = Field(1000, ge=0, le=60000, description="each Rasa process serves its "
                                          "Prometheus metrics on its own port + this, on internal_host (5005 -> "
                                          "6005); 0 = none")
    log_format: str = Field("text", regex="^(text|json)$", description="text, or json: one JSON object per line on "
                            "stdout (time, level, logger, message, service), redacted like the text logs")
    database_url: str = Field("", description="SQLAlchemy URL of the ticket database; empty = SQLite in home")
    endpoints: str = Field("endpoints.yml", description="Rasa endpoints (endpoints.scale-out.yml: PostgreSQL, Redis)")
    session_compact_events: int = Field(80, ge=0, description="a conversation whose Rasa session holds more events "
                                        "than this starts a new session at its next quiet point (slots carried "
                                        "over), so a turn costs the same at turn 200; about 8 events per turn; 0 = off")
    ticket_service_url: str = Field("", description="base URL of the ticket API; empty = the local web service")
    actions_outbox_url: str = Field("", description="SQLAlchemy URL of the action server's outbox (tickets that wait "
                                    "while the ticket API is away); empty = a SQLite file in home. With several "
                                    "action servers: one PostgreSQL database they all reach, so that a replaced "
                                    "replica's tickets are delivered by another")
    api_token: Optional[SecretStr] = Field(None, description="legacy bearer token of the ticket, feedback and "
                                           "metrics API with every scope (at least 32 characters); prefer scoped "
                                           "tokens: auskunft token create (docs/api-tokens.md)")
    actions_api_token: Optional[SecretStr] = Field(None, description="the action server's token for the ticket "
                                                   "API, made with auskunft token create actions --scope "
                                                   "tickets:create --scope feedback:create (rotate and revoke it "
                                                   "like any token); not set: one derived from api_token that may "
                                                   "only create tickets and votes")
    vector_key: Optional[SecretStr] = Field(None, description="key the web service signs query vectors with and "
                                            "Rasa checks them with (at least 32 characters); not set: derived "
                                            "from api_token")
    allowed_origins: str = Field("", description="comma-separated origins of the agency's website(s) that embed "
                                 "the widget from another origin, e.g. https://www.musterstadt.de")
    max_message_chars: int = Field(2000, ge=50, le=20000)
    chat_in_flight: int = Field(8, ge=0, le=1000, description="chat turns one web process forwards to Rasa at the "
                                "same time; more wait (see chat_queue_wait_s); 0 = no cap (docs/deployment.md, "
                                "\"Overload\")")
    chat_queue_wait_s: float = Field(8.0, ge=0, le=30, description="how long a turn waits for one of those slots "
                                     "before it is refused with 503 and Retry-After (never forwarded, so nothing of "
                                     "it is stored; the widget sends it again); with Rasa's 10 s it stays inside the "
                                     "widget's 20 s")
    chat_queue_max: int = Field(400, ge=0, le=10000, description="turns that may wait at the same time; one more is "
                                "refused at once (about what the process answers in chat_queue_wait_s)")

    # Limits on what citizens can ask without login (docs/deployment.md, "Limits on the citizen API")
    rate_limits: bool = Field(True, description="limit citizens' requests per address, per conversation and in "
                              "total, and the tickets per address; off only for load tests")
    limit_window_s: float = Field(60.0, gt=0, le=3600, description="the window of the chat limits, in seconds")
    limit_chat_per_address: int = Field(60, ge=0, description="chat messages per window from one address (an IPv6 "
                                        "/64 counts as one); many citizens can share one (mobile networks, public "
                                        "Wi-Fi); replies polling may use ten times this; 0 = no limit")
    limit_chat_per_conversation: int = Field(20, ge=0, description="chat messages per window in one conversation "
                                             "(a person types and clicks fewer); 0 = no limit")
    limit_chat_global: int = Field(3000, ge=0, description="chat messages per window from everyone together (about "
                                   "what the serving processes answer, see docs/deployment.md); 0 = no limit")
    limit_lookups_per_address: int = Field(10, ge=0, description="case-number lookups (/fall) per 10 minutes from "
                                           "one address; 0 = no limit")
    limit_handoffs_per_address: int = Field(5, ge=0, description="tickets per handoff window from one address; "
                                            "beyond it the citizen is asked to try later or use the agency's other "
                                            "contact; 0 = no limit")
    limit_handoffs_global: int = Field(200, ge=0, description="tickets per handoff window from everyone together "
                                       "(protects the helpdesk from a flood from many addresses); 0 = no limit")
    limit_handoff_window_s: float = Field(600.0, gt=0, le=86400, description="the window of the handoff budgets, "
                                          "in seconds")
    limits_store: str = Field("auto", regex="^(auto|database|memory)$", description="where the counters are kept: "
                              "auto = Redis when redis_url is set, else the ticket database (shared by all processes); "
                              "memory = in each process")
    redis_url: str = Field("", description="Redis for the limit counters, e.g. redis://127.0.0.1:6379/0 (shared by "
                           "every process and machine); empty = the ticket database")
    redis_password: Optional[SecretStr] = Field(None, description="the Redis server's password (requirepass): "
                                                "Rasa's lock store (endpoints.scale-out.yml) and the limit counters "
                                                "unless redis_url names one; unset = none")
    trusted_proxies: str = Field("", description="comma-separated addresses or networks of the reverse proxies in "
                                 "front of the web service, e.g. 10.0.0.0/8; their X-Forwarded-For names the client "
                                 "(otherwise all citizens would share the proxy's address)")

    # Agents, departments, office hours (the handoff inbox)
    departments_file: Path = Field(PROJECT_ROOT / "departments.yml", description="departments and the kb owners "
                                   "each answers for")
    office_hours: str = Field("Mo-Fr 08:00-16:00", description="when agents answer, e.g. "
                              "'Mo-Do 08:00-16:00; Fr 08:00-12:00'")
    timezone: str = Field("Europe/Berlin", description="the agency's time zone (office hours, analytics, every "
                          "time shown in the inbox and on /fall)")
    agent_session_minutes: int = Field(480, ge=5, le=1440, description="an inbox login expires after this")
    session_idle_minutes: int = Field(30, ge=1, le=1440, description="an inbox login also ends after this many "
                                      "minutes without a request (checked to the minute)")
    secure_cookies: Optional[bool] = Field(None, description="mark the inbox cookies Secure (sent over HTTPS only); "
                                           "not set: on when public_url starts with https://")
    # Staff sign-in with the agency's identity provider (OpenID Connect) and the second factor of local accounts
    oidc_issuer: str = Field("", description="issuer URL of the identity provider for staff sign-in, exactly as "
                             "its discovery document says, e.g. https://login.musterstadt.de/realms/verwaltung; "
                             "empty = local accounts only (docs/agents.md, 'Sign-in with the identity provider')")
    oidc_client_id: str = Field("", description="this service's client id at the identity provider")
    oidc_client_secret: Optional[SecretStr] = Field(None, description="the client's secret (never logged)")
    oidc_groups_file: Path = Field(PROJECT_ROOT / "oidc-groups.yml", description="YAML: which provider groups give "
                                   "which departments, agencies and roles (manager, editor); a person in no listed "
                                   "group cannot sign in")
    oidc_groups_claim: str = Field("groups", regex=r"^[A-Za-z0-9_.:-]{1,80}$", description="the ID token or "
                                   "UserInfo claim that lists the person's groups")
    oidc_redirect_uri: str = Field("", description="the redirect URI registered at the provider; empty = this "
                                   "service's address as the browser reaches it + /inbox/oidc/callback")
    totp_required: bool = Field(False, description="every local account must use a second factor (a code from an "
                                "authenticator app, TOTP); accounts without one set it up at their next login")
    # Notifications to citizens who left an e-mail address
    smtp_host: str = Field("", description="SMTP server for reply notifications; empty = no e-mail")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: Optional[SecretStr] = None
    smtp_starttls: bool = False
    mail_from: str = Field("Bürgerservice <noreply@musterstadt.example>", description="sender of notifications")
    public_url: str = Field("", description="where citizens look up a case (e.g. https://www.musterstadt.de); "
                            "empty = the web service")
    # Delivery of tickets to an existing helpdesk
    helpdesk: str = Field("inbox", regex="^(inbox|zammad|webhook)$", description="where tickets go: the built-in "
                          "inbox, Zammad, or a signed webhook")
    zammad_url: str = ""
    zammad_token: Optional[SecretStr] = None
    zammad_group: str = "Users"
    webhook_url: str = ""
    webhook_secret: Optional[SecretStr] = None
    # Retention (DSGVO): resolved tickets and old conversations are deleted after this many days
    retention_days: int = Field(90, ge=1, le=3650)
    worker_seconds: float = Field(5.0, ge=0.2, le=3600, description="how often the web service (or the worker) "
                                  "delivers queued tickets and notifications")
    background_jobs: bool = Field(True, description="the web service itself delivers tickets to the helpdesk, sends "
                                  "notifications and deletes what is past retention; set false on every web replica "
                                  "when 'auskunft serve worker' runs, so that N replicas do not do the work N times")
    worker_port: int = Field(5070, ge=1, le=65535, description="port of the worker's readiness endpoint "
                             "(GET /health on internal_host: 200 while its last round reached the database)")
    lease_seconds: float = Field(120.0, ge=5, le=3600, description="how long a worker holds a ticket delivery or a "
                                 "notification it took: if it dies meanwhile, another worker takes it after this")

    class Config:
        env_prefix = "AUSKUNFT_"
        env_file = ".env"

    @validator("home", "kb_dir", "departments_file", "agencies_file", "oidc_groups_file")
    def _absolute(cls, value: Path) -> Path:  # noqa: N805 - pydantic validator signature
        return value.expanduser().resolve()

    @validator("api_token", "actions_api_token", "vector_key")
    def _long_secret(cls, value: Optional[SecretStr], field: Any) -> Optional[SecretStr]:  # noqa: N805
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"{field.name} (AUSKUNFT_{field.name.upper()}) is {len(value.get_secret_value())} "
                             f"characters long; use at least {MIN_SECRET_LENGTH} random characters, e.g. from "
                             "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return value

    @validator("allowed_origins")
    def _origins(cls, value: str) -> str:  # noqa: N805 - pydantic validator signature
        for origin in filter(None, (o.strip() for o in value.split(","))):
            if origin == "*" or not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(f"allowed_origins: {origin!r} is not an origin like https://www.musterstadt.de "
                                 "(scheme and host, no path, no '*')")
        return value

    @validator("rasa_url")
    def _rasa_urls(cls, value: str) -> str:  # noqa: N805 - pydantic validator signature
        for url in filter(None, (u.strip() for u in value.split(","))):
            if not re.match(r"^https?://[^/\s]+/?$", url):
                raise ValueError(f"rasa_url: {url!r} is not a base URL like http://10.0.0.11:5005 "
                                 "(scheme, host and port, no path)")
        return value

    @validator("trusted_proxies")
    def _proxies(cls, value: str) -> str:  # noqa: N805 - pydantic validator signature
        from bot.limits.addresses import parse_networks

        parse_networks(value)  # raises ValueError naming the entry
        return value

    @validator("oidc_issuer", "oidc_redirect_uri")
    def _oidc_url(cls, value: str, field: Any) -> str:  # noqa: N805 - pydantic validator signature
        if value and not re.match(r"^(https://[^/\s?#]+|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?)(/[^\s?#]*)?$",
                                  value):
            raise ValueError(f"{field.name}: {value!r} is not an https:// URL without query or fragment, e.g. "
                             "https://login.musterstadt.de/realms/verwaltung (http:// only on loopback, for tests)")
        return value

    @root_validator(skip_on_failure=True)
    def _oidc_complete(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805 - pydantic validator signature
        if values.get("oidc_issuer"):
            if not (values.get("oidc_client_id") or "").strip():
                raise ValueError("oidc_client_id: empty, but oidc_issuer is set; give the client id registered at "
                                 "the identity provider")
            secret = values.get("oidc_client_secret")
            if secret is None or not secret.get_secret_value():
                raise ValueError("oidc_client_secret: not set, but oidc_issuer is set; give the client's secret "
                                 "from the identity provider")
            groups = values.get("oidc_groups_file")
            if groups is not None and not groups.is_file():
                raise ValueError(f"oidc_groups_file: {str(groups)!r} does not exist; create it as described in "
                                 "docs/agents.md")
        return values

    @property
    def allowed_origin_list(self) -> List[str]:
        """The allowed origins as a list."""
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    def agencies(self) -> "Agencies":
        """The agencies this deployment serves (read from ``agencies_file``; validated).

        Raises:
            AgencyConfigError: the file is invalid.
        """
        from bot.config.agencies import Agencies

        return Agencies.load(self.agencies_file, self.kb_dir)

    @property
    def index_dir(self) -> Path:
        """Published FAQ index versions."""
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        """Embedding cache by entry content hash."""
        return self.home / "embedding-cache"

    @property
    def default_model_dir(self) -> Path:
        """Where ``auskunft model provision`` writes the default embedding model."""
        return self.home / "models" / "multilingual-e5-small-q4"

    @property
    def tuned_models_dir(self) -> Path:
        """Models fine-tuned on the kb (``finetune_epochs`` > 0)."""
        return self.home / "models" / "tuned"

    @property
    def spacy_model_dir(self) -> Path:
        """The German spaCy pipeline that Rasa's SpacyNLP loads."""
        return self.home / "models" / "spacy-de"

    @property
    def model_name(self) -> str:
        """The embedding model actually used."""
        return self.embedding_model or str(self.default_model_dir)

    @property
    def cookies_secure(self) -> bool:
        """Whether the inbox cookies are Secure: ``secure_cookies`` when set, else whether ``public_url`` is https."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.strip().lower().startswith("https://")

    @property
    def resolved_database_url(self) -> str:
        """The ticket database URL (SQLite under ``home`` by default)."""
        return self.database_url or f"sqlite:///{self.home / 'tickets.sqlite3'}"

    @property
    def resolved_ticket_service_url(self) -> str:
        """Base URL of the ticket API."""
        return (self.ticket_service_url or f"http://{self.host}:{self.web_port}").rstrip("/")

    @property
    def resolved_metrics_port_actions(self) -> int:
        """The action server's metrics port: ``metrics_port_actions``, by default ``action_port + 1000``; 0 = none."""
        if self.metrics_port_actions is not None:
            return self.metrics_port_actions
        return self.action_port + 1000 if self.action_port + 1000 <= 65535 else 0

    @property
    def calibrated_thresholds(self) -> bool:
        """Whether each index's own calibrated thresholds apply (``thresholds=calibrated``, none set explicitly)."""
        return self.thresholds == "calibrated" and not FIXED_BY & self.__fields_set__

    def decision_config(self) -> DecisionConfig:
        """The configured thresholds as the decision function takes them (validated).

        The bot applies an index's calibrated thresholds on top (:func:`bot.calibration.thresholds_for`).
        """
        return DecisionConfig(
            answer_threshold=self.answer_threshold,
            clarify_threshold=self.clarify_threshold,
            min_margin=self.min_margin,
            max_choices=self.max_choices,
            max_misses=self.max_misses,
            smalltalk_floor=self.smalltalk_floor,
            smalltalk_margin=self.smalltalk_margin,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()  # type: ignore[call-arg]  # pydantic v1 fields have defaults; mypy cannot see them
