"""Sorts the keys of user-data maps by what their name says of their value: redaction's key rules.

`classify_key` gives one of four classes. SECRET: the name says the value is a secret (password,
client_secret, HF_TOKEN, api_key, DATABASE_URL, SENTRY_DSN): redaction hides the value whatever it
looks like, save a value that cannot be one (`secret_shapes.cannot_be_secret`). WEAK: a secret word
appears only as part of another term (tokenizer, max_tokens, pad_token, prompt_key, kms_key,
TS_DISABLE_TOKEN_AUTHORIZATION, secret_name): the value is hidden only when it looks like a
credential itself. IDENTIFIER: a key naming an identifier or digest (revision, commit_sha,
run_id), under which a hex string is innocent. PLAIN: the rest. This is the shape of gitleaks'
generic-api-key rule (a keyword, then an entropy and length test on the value, and an allowlist of
innocent compounds: github.com/gitleaks/gitleaks, cmd/generate/config/rules/generic.go) and of
detect-secrets' keyword plugin (a denylist of names whose value is always reported:
github.com/Yelp/detect-secrets, detect_secrets/plugins/keyword.py), with ML's own innocent
compounds added: a secret word is also an ML word (token, key, auth). Keys are read as words:
"HFToken", "HF_TOKEN" and "hf-token" all read "_hf_token_".
"""

from __future__ import annotations

import re

SECRET = "secret"
WEAK = "weak"
PLAIN = "plain"
IDENTIFIER = "identifier"

# Names whose value is a secret whatever it looks like. Searched in the key normalised to
# "_word_word_". Which words: detect-secrets' keyword denylist (keyword.py: password, passwd, pwd,
# secret, private_key, api_key, apikey, access_key, secret_key, token, auth, ...) and gitleaks'
# generic keywords (generic.go: access, auth, api, credential, creds, key, passwd, password,
# secret, token), narrowed to the compounds that name a credential.
SECRET_NAME_PATTERNS: tuple[str, ...] = (
    r"passw(?:or)?d|passphrase|_(?:pass|pwd|pw)_",  # password, PASSWD, DB_PASS, MYSQL_PWD
    r"secret",  # client_secret, SECRET_KEY, aws_secret_access_key
    r"credential|_creds?_",
    r"_priv(?:ate)?_?key",
    r"_api_?key|apikey",  # api_key, ApiKey, APIKEY, x-api-key, WANDB_API_KEY
    # A key of some kind of account, service or signature: access_key, ssh_key, DD_APP_KEY.
    r"_(?:access|signing|master|license|session|client|ssh|gpg|pgp|service|account|db|database"
    r"|app|consumer|storage|deploy|hmac|admin|root|bot|auth|user|subscription|shared|sas)_?keys?_",
    # The tokens of an account or a service: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, authToken.
    r"_(?:session|auth|access|refresh|api|hub|hf|hugging_?face|github|gh|gitlab|gl|git|bot|slack"
    r"|discord|telegram|oauth|bearer|id|personal_access|npm|pypi|docker|registry|security|client"
    r"|app|user|service|wandb|comet|neptune|mlflow|kaggle|openai|anthropic|cohere|replicate"
    r"|pinecone|databricks|jwt|deploy|runner|sas|bearer|csrf|xsrf|secret|login|admin|cloud)_?tokens?_",
    r"^_tok(?:en)?_$",  # a key that is only "token"
    r"^_auth_|_auth_$|authorization|_oauth|_basic_auth|_authtoken",
    r"connection_?string|conn_?str|_dsn_",  # a DSN or connection string embeds the password
    r"_(?:database|db|mongo(?:db)?|redis|postgres(?:ql)?|mysql|mssql|amqp|rabbitmq|broker|celery"
    r"|sqlalchemy(?:_database)?|elastic(?:search)?|kafka)_?ur[il]_",
    r"webhook|_(?:slack|discord|teams|chat)_?(?:hook_)?ur[il]_",  # the URL is the secret
    r"cookie|bearer|_jwt_|_pat_",  # GITHUB_PAT: a personal access token
)

# A word that makes a secret name describe the secret instead of holding it: secret_name,
# password_length, HF_TOKEN_PATH, use_auth_token, TS_DISABLE_TOKEN_AUTHORIZATION, token_level_loss.
# gitleaks' generic allowlist has the same idea (api_version, secret_name, key_id, token_file, ...).
_DESCRIBING_WORDS = (
    r"_(?:name|names|id|ids|arn|arns|length|len|size|type|types|kind|mode|method|scheme|provider"
    r"|version|region|file|files|path|paths|dir|directory|location|endpoint|header|field|column"
    r"|expiry|expiration|expires|ttl|timeout|count|num|number|max|min|limit|enabled|enable"
    r"|disable|disabled|use|required|require|rotation|manager|store|format|alias|env|var|stdin"
    r"|level|prefix|policy|loss|embedding|embeddings|dim|ref|reference|label|labels|template"
    r"|strategy|pattern|regex|mask|masking|position|positions|ratio|weight|vocab|config"
    r"|parameter|parameters|arg|args|host|port|uri_env)_"
)
# ... except in an AWS key pair's id (gitleaks allowlists `access_id`, not `access_key_id`): its
# value is paired with the secret key and is what scanners call a credential.
_ALWAYS_SECRET = r"access_key_id|_(?:aws_)?secret_access_key_"

# The words a key must contain to be WEAK: gitleaks' generic keywords, as words or word starts.
_WEAK_WORDS = (
    r"tok(?:en)?|key|auth|secret|passw|pwd|credential|creds?|api|access|private|cert|signature"
    r"|salt|cookie|session|login|bearer|jwt|dsn|webhook"
)

# A PLAIN key that names an identifier or a digest: a hex string under it is a commit, a checksum, a
# run id, not a key ("commit hashes under revision keys" are innocent, issue 20).
_IDENTIFIER_WORDS = re.compile(
    r"_(?:revision|rev|commit|sha|sha1|sha256|hash|checksum|digest|md5|etag|id|ids|uuid|guid"
    r"|version|fingerprint|build|run|trial|experiment|job|seed|tag|ref|branch|object|etag|hex)_"
)

_SECRET = re.compile("|".join(f"(?:{p})" for p in SECRET_NAME_PATTERNS))
_DESCRIBING = re.compile(_DESCRIBING_WORDS)
_ALWAYS = re.compile(_ALWAYS_SECRET)
_WEAK = re.compile(rf"_(?:{_WEAK_WORDS})|(?:{_WEAK_WORDS})_")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_ONE_CASE = re.compile(r"[a-z0-9_]+|[A-Z0-9_]+")
# One word ending in a secret noun: HFTOKEN, APIKEY, AUTHTOKEN, SECRETKEY.
_COMPOUND = re.compile(r"(?<=[a-z])(token|key|secret|password|passwd)$")


def normalize_key(key: str) -> str:
    """ "HFToken" -> "_hf_token_", "db-Password" -> "_db_password_": words split, lower case."""
    if _ONE_CASE.fullmatch(key):  # most keys: learning_rate, SM_NUM_GPUS (no camel case to split)
        words = key.strip("_").lower()
        if "__" in words:
            words = _SEPARATORS.sub("_", words.replace("_", " "))
    else:
        spaced = _ACRONYM.sub(r"\1_\2", _CAMEL.sub(r"\1_\2", key))
        words = _SEPARATORS.sub("_", spaced).strip("_").lower()
    if "_" not in words:
        words = _COMPOUND.sub(r"_\1", words)
    return f"_{words}_"


def classify_key(key: str) -> str:
    """SECRET, WEAK, IDENTIFIER or PLAIN (see the module's docstring) for one map key or flag."""
    words = normalize_key(key)
    if _ALWAYS.search(words):
        return SECRET
    secret = _SECRET.search(words)
    if secret is not None:
        # The other words: do they describe the secret ("use_auth_token", "secret_name")?
        others = f"{words[: secret.start()]}_{words[secret.end() :]}"
        if not _DESCRIBING.search(others):
            return SECRET
    # An identifier first: "tokenizer_revision" holds a commit, "kms_key_id" a UUID.
    if _IDENTIFIER_WORDS.search(words):
        return IDENTIFIER
    return WEAK if secret is not None or _WEAK.search(words) else PLAIN
