"""smi's SigV4 signer: every request it signs carries exactly the fields botocore's own SigV4Auth
gives the same request at the same instant, whatever it keeps between requests (signing keys by
secret, day, region and service; the date field of the second; normalised URL paths)."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from sagemaker_inventory.aws.signing import (
    _PATHS_KEPT,
    _SIGNING_KEYS_KEPT,
    FieldMapSigV4Auth,
    Fields,
    _normalized_paths,
    sign,
    sigv4_timestamp,
)

FROZEN = datetime.datetime(2026, 11, 28, 9, 30, 15)
BODY = b'{"TrainingJobName": "job-1"}'
URL = "https://api.sagemaker.us-east-1.amazonaws.com/"
DESCRIBE = {
    "Content-Type": "application/x-amz-json-1.1",
    "User-Agent": "Boto3/1.35 md/Botocore#1.35 ua/2.0 os/linux#6 cfg/retry-mode#adaptive",
    "X-Amz-Target": "SageMaker.DescribeTrainingJob",
    "amz-sdk-invocation-id": "0d5d6c3e-8b1f-4a4e-9a43-2f1a0c9b7d11",
    "amz-sdk-request": "attempt=1; max=10",
}

Freeze = Callable[[datetime.datetime], None]


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Freeze:
    """Sets the instant both signers read (UTC, naive, as botocore's clock gives it)."""

    def at(when: datetime.datetime) -> None:
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: when)
        epoch = when.replace(tzinfo=datetime.timezone.utc).timestamp()
        monkeypatch.setattr(sigv4_timestamp, "now", lambda: epoch)

    at(FROZEN)
    return at


@pytest.fixture(autouse=True)
def no_kept_keys() -> None:
    """Each test starts with no signing key kept (they are kept per process, for every signer)."""
    FieldMapSigV4Auth._signing_keys.clear()


def signed(
    fields: dict[str, str],
    credentials: ReadOnlyCredentials,
    url: str = URL,
    scope: tuple[str, str] = ("us-east-1", "sagemaker"),
) -> tuple[dict[str, str], dict[str, str]]:
    """The fields smi's `sign`, then botocore's SigV4Auth, give a POST of BODY to `url`."""
    ours = Fields(fields.items())
    sign(url, ours, BODY, credentials, scope)
    botocores = AWSRequest("POST", url, dict(fields), BODY)
    SigV4Auth(credentials, scope[1], scope[0]).add_auth(botocores)
    return dict(ours.items()), dict(botocores.headers.items())


def keys(secret: str, token: str | None = None) -> ReadOnlyCredentials:
    return Credentials("AKIDSIGN", secret, token).get_frozen_credentials()


@pytest.mark.parametrize(
    ("url", "fields", "token"),
    [
        ("https://api.sagemaker.us-east-1.amazonaws.com/", {"X-Amz-Target": "a.B"}, None),
        ("https://api.sagemaker.eu-west-1.amazonaws.com/", {"X-Amz-Target": "a.B"}, "tok"),
        ("http://127.0.0.1:8080/", {**DESCRIBE, "X-Odd-Spacing": "  a   b \t c "}, "tok"),
        ("http://localhost:80/", DESCRIBE, None),  # the scheme's default port is not signed
        ("https://API.SageMaker.Example.com:443/a/./b/../c", DESCRIBE, "t" * 400),
        ("https://[::1]:8443/path", {"Expect": "100-continue", "x-amzn-trace-id": "t"}, None),
        ("http://h:1/", {"Host": "other:9", "X-Amz-Date": "19700101T000000Z", **DESCRIBE}, None),
        ("http://h/", {"Authorization": "stale", "X-Amz-Security-Token": "old"}, "new"),
        ("http://h/", {"User-Agent": "UPPER case", "user-AGENT-x": "v", "a": ""}, None),
    ],
)
def test_the_field_map_signer_signs_as_botocores_signer(
    freeze: Freeze, url: str, fields: dict[str, str], token: str | None
) -> None:
    """Rule: smi's signer gives every field (date, token, Authorization) botocore's gives."""
    ours, botocores = signed(fields, keys("sign-secret", token), url)
    assert ours == botocores


@pytest.mark.parametrize(
    "times",
    [
        [1764322215.0, 1764322215.999999, 1764322216.0],  # within a second, then the next
        [1764374399.5, 1764374400.25],  # 23:59:59 to 00:00:00 UTC
        [1764322216.5, 1764322215.5, 0.0, 4102444800.75],  # the clock stepped back; the epoch
    ],
)
def test_the_date_field_is_the_utc_second_as_botocore_writes_it(
    monkeypatch: pytest.MonkeyPatch, times: list[float]
) -> None:
    """Rule: X-Amz-Date is botocore's SIGV4_TIMESTAMP of the second the clock reads, whichever
    second was asked before."""
    for now in times:
        monkeypatch.setattr(sigv4_timestamp, "now", lambda now=now: now)
        when = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        assert sigv4_timestamp() == when.strftime(botocore.auth.SIGV4_TIMESTAMP)


def test_no_keys_is_botocores_error() -> None:
    """Rule: a request with no keys to sign it fails as botocore's signer fails it."""
    with pytest.raises(NoCredentialsError):
        sign(URL, Fields(DESCRIBE.items()), BODY, None, ("us-east-1", "sagemaker"))  # type: ignore[arg-type]


def test_a_request_signed_again_signs_its_fields_as_they_are_then(freeze: Freeze) -> None:
    """Rule: the fields gathered for one signing are not reused by the next (a retry's)."""
    credentials = keys("sign-secret", "tok")
    signer = FieldMapSigV4Auth(credentials, "sagemaker", "us-east-1")
    request = AWSRequest("POST", URL, data=BODY)
    request.headers = Fields(DESCRIBE.items())  # type: ignore[assignment]
    signer.add_auth(request)
    request.headers["amz-sdk-request"] = "attempt=2; max=10"
    request.headers["X-Added"] = "on retry"
    signer.add_auth(request)
    expected = {**DESCRIBE, "amz-sdk-request": "attempt=2; max=10", "X-Added": "on retry"}
    assert dict(request.headers.items()) == signed(expected, credentials)[1]


def test_a_new_utc_day_signs_with_that_days_key(freeze: Freeze) -> None:
    """Rule: the signing key is the date's; a key kept from the day before is not used after
    midnight UTC."""
    credentials = keys("sign-secret", "tok")
    freeze(datetime.datetime(2026, 11, 28, 23, 59, 59))
    ours, botocores = signed(DESCRIBE, credentials)
    assert ours == botocores
    freeze(datetime.datetime(2026, 11, 29, 0, 0, 1))
    ours, botocores = signed(DESCRIBE, credentials)
    assert ours == botocores
    assert "/20261129/us-east-1/sagemaker/aws4_request" in ours["Authorization"]
    dates = {date for _, date, _, _ in FieldMapSigV4Auth._signing_keys}
    assert dates == {"20261128", "20261129"}


def test_a_rotated_secret_signs_with_a_key_of_its_own(freeze: Freeze) -> None:
    """Rule: the signing key is the secret's; new keys with the same access key id (a refresh)
    never sign with the old secret's key."""
    old, new = keys("secret-before-refresh", "tok1"), keys("secret-after-refresh", "tok2")
    assert old.access_key == new.access_key
    before, botocores = signed(DESCRIBE, old)
    assert before == botocores
    after, botocores = signed(DESCRIBE, new)
    assert after == botocores
    assert after["Authorization"] != before["Authorization"]


def test_each_region_and_service_signs_with_its_own_key(freeze: Freeze) -> None:
    """Rule: the signing key is the region's and the service's; scopes signed in turn (as scopes'
    workers do) each sign with theirs."""
    credentials = keys("sign-secret", "tok")
    scopes = [("us-east-1", "sagemaker"), ("eu-west-1", "sagemaker"), ("us-east-1", "sts")]
    for scope in [*scopes, *scopes]:
        ours, botocores = signed(DESCRIBE, credentials, scope=scope)
        assert ours == botocores
    assert len(FieldMapSigV4Auth._signing_keys) == len(scopes)


def test_signing_keys_kept_are_bounded(freeze: Freeze) -> None:
    """Rule: keys of rotated secrets do not pile up: the oldest kept goes, and a secret whose
    key went signs as before."""
    for n in range(_SIGNING_KEYS_KEPT + 5):
        sign(URL, Fields(DESCRIBE.items()), BODY, keys(f"secret-{n}"), ("us-east-1", "sagemaker"))
        assert len(FieldMapSigV4Auth._signing_keys) <= _SIGNING_KEYS_KEPT
    kept = {secret for secret, _, _, _ in FieldMapSigV4Auth._signing_keys}
    assert "secret-0" not in kept and f"secret-{_SIGNING_KEYS_KEPT + 4}" in kept
    ours, botocores = signed(DESCRIBE, keys("secret-0"))
    assert ours == botocores


def test_paths_remembered_are_bounded(freeze: Freeze) -> None:
    """Rule: URL paths, normalised as botocore does (dot segments, escapes), are remembered
    a bounded number at a time."""
    for n in range(_PATHS_KEPT + 5):
        url = f"https://h/{n}/./a b/../%7e~/"
        ours, botocores = signed(DESCRIBE, keys("sign-secret"), url)
        assert ours == botocores
        assert len(_normalized_paths) <= _PATHS_KEPT


def test_threads_signing_at_once_each_sign_as_botocore(freeze: Freeze) -> None:
    """Rule: workers signing at once, for different secrets and regions, past the bound of keys
    kept, each get their own scope's signature."""
    scopes = [(f"secret-{n}", region) for n in range(3) for region in ("us-east-1", "us-west-2")]
    expected = {
        (secret, region): signed(DESCRIBE, keys(secret), scope=(region, "sagemaker"))[1]
        for secret, region in scopes
    }
    wrong: list[tuple[str, str]] = []

    def work(offset: int) -> None:
        for n in range(_SIGNING_KEYS_KEPT * 2):
            secret, region = scopes[(n + offset) % len(scopes)]
            fields = Fields(DESCRIBE.items())
            sign(URL, fields, BODY, keys(secret), (region, "sagemaker"))
            if dict(fields.items()) != expected[secret, region]:
                wrong.append((secret, region))
            if n % 4 == 0:  # other secrets' keys crowd the kept ones out now and then
                sign(URL, Fields(), BODY, keys(f"other-{offset}-{n}"), (region, "sagemaker"))

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
