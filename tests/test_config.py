from __future__ import annotations

from pathlib import Path

import pytest

from centrasync.config import (
    ArticleNumberStrategy,
    CapturePolicy,
    ReturnsSource,
    load_settings,
    parse_settings,
)
from centrasync.errors import ConfigError

GOOD = """
[engine]
database_url = "sqlite+aiosqlite:///state.sqlite"

[stores.se]
capture_policy = "on_complete"
article_number = "ean"
returns_from = "both"

[stores.se.centra]
host = "https://shop.centra.com"
uri = "wms"
timezone = "Europe/Stockholm"

[stores.se.wms]
warehouse = "acme"
user = "api"
goods_owner_id = 7

[stores.us.centra]
host = "http://127.0.0.1:7801/"
uri = "wms-us"
timezone = "America/New_York"
secret_env = "US_SECRET"

[stores.us.wms]
base_url = "http://127.0.0.1:7802/demo/api/v1"
user = "api"
goods_owner_id = 1
"""

ENV = {
    "CENTRASYNC_SE_CENTRA_SECRET": "se-secret",
    "CENTRASYNC_SE_WMS_PASSWORD": "se-pw",
    "CENTRASYNC_SE_WEBHOOK_SECRET": "se-hook",
    "US_SECRET": "us-secret",
    "CENTRASYNC_US_WMS_PASSWORD": "us-pw",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "centrasync.toml"
    path.write_text(text)
    return path


def test_loads_several_stores_with_secrets_from_env(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), ENV)
    se, us = settings.store("se"), settings.store("us")
    assert se.centra.base_url == "https://shop.centra.com/api/wms/"
    assert se.capture_policy is CapturePolicy.ON_COMPLETE
    assert se.returns_from is ReturnsSource.BOTH
    assert se.article_number is ArticleNumberStrategy.EAN
    assert se.wms.api_url == "https://api.ongoingsystems.se/acme/api/v1/"
    assert se.centra_secret.get_secret_value() == "se-secret"
    assert se.webhook_secret is not None
    assert us.webhook_secret is None
    assert us.centra.base_url == "http://127.0.0.1:7801/api/wms-us/"
    assert us.capture_policy is CapturePolicy.NEVER
    assert us.returns_from is ReturnsSource.ORDERS
    assert us.article_number is ArticleNumberStrategy.SKU_VARIANT_SIZE


def test_secrets_never_show_in_repr(tmp_path: Path) -> None:
    text = repr(load_settings(write(tmp_path, GOOD), ENV))
    for secret in ENV.values():
        assert secret not in text


def test_secrets_never_show_in_str_or_dumps(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), ENV)
    store = settings.store("se")
    shown = [str(settings), str(store.centra_secret), settings.model_dump_json()]
    shown.append(str(settings.model_dump()))
    for text in shown:
        for secret in ENV.values():
            assert secret not in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('"Europe/Stockholm"', '"Europe/Stokholm"'), "stores.se.centra.timezone"),
        (('"on_complete"', '"sometimes"'), "stores.se.capture_policy"),
        (('returns_from = "both"', 'returns_from = "lines"'), "stores.se.returns_from"),
        (("goods_owner_id = 7", "goods_owner_id = 0"), "stores.se.wms.goods_owner_id"),
        (('host = "https://shop.centra.com"', 'host = "shop.centra.com"'), "stores.se.centra.host"),
        (('article_number = "ean"', 'article_nr = "ean"'), "stores.se.article_nr"),
        (('warehouse = "acme"', ""), "stores.se.wms: set base_url or warehouse"),
    ],
)
def test_errors_name_the_store_and_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, GOOD.replace(*change)), ENV)
    assert expected in str(caught.value)


def test_missing_secret_names_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "US_SECRET"}
    with pytest.raises(ConfigError, match=r"stores\.us\.centra\.secret_env: .*US_SECRET"):
        load_settings(write(tmp_path, GOOD), env)


def test_custom_strategy_needs_fields() -> None:
    doc = {
        "stores": {
            "x": {
                "article_number": "custom",
                "centra": {"host": "http://c", "uri": "u", "timezone": "UTC"},
                "wms": {"warehouse": "w", "user": "u", "goods_owner_id": 1},
            }
        }
    }
    env = {"CENTRASYNC_X_CENTRA_SECRET": "a", "CENTRASYNC_X_WMS_PASSWORD": "b"}
    with pytest.raises(ConfigError, match=r"stores\.x\.article_number_fields"):
        parse_settings(doc, env)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[stores"), ENV)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", ENV)
    with pytest.raises(ConfigError, match="at least one"):
        parse_settings({}, ENV)


INTEGRATION_API = """
[stores.se.integration_api]
url = "https://shop.centra.com/graphql/"
"""


def test_an_integration_api_token_comes_from_the_environment(tmp_path: Path) -> None:
    from centrasync.runtime import integration_client

    env = {**ENV, "CENTRASYNC_SE_INTEGRATION_API_TOKEN": "gql-token-value"}
    settings = load_settings(write(tmp_path, GOOD + INTEGRATION_API), env)
    se, us = settings.store("se"), settings.store("us")
    assert se.integration_api is not None
    assert se.integration_api.url == "https://shop.centra.com/graphql"
    assert se.integration_api_token is not None
    assert se.integration_api_token.get_secret_value() == "gql-token-value"
    assert "gql-token-value" not in repr(settings)
    assert us.integration_api is None and integration_client(us) is None
    client = integration_client(se)
    assert client is not None and "gql-token-value" not in repr(client)


def test_an_integration_api_without_its_token_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stores\.se\.integration_api\.token_env: .*"):
        load_settings(write(tmp_path, GOOD + INTEGRATION_API), ENV)
    named = INTEGRATION_API + 'token_env = "SE_GQL"\n'
    settings = load_settings(write(tmp_path, GOOD + named), {**ENV, "SE_GQL": "x-token"})
    token = settings.store("se").integration_api_token
    assert token is not None and token.get_secret_value() == "x-token"


def test_a_secret_written_in_the_file_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(
        'returns_from = "both"', 'returns_from = "both"\nintegration_api_token = "x"'
    )
    with pytest.raises(ConfigError, match="does not belong in the file"):
        load_settings(write(tmp_path, text), ENV)


ANALYTICS = """
[stores.se.analytics]
destination = "shop.duckdb"
personal_data = "hash"
[stores.se.analytics.columns]
gift_message = "other_comment"
"""


def test_analytics_is_an_optional_table_that_needs_the_integration_api(tmp_path: Path) -> None:
    from centrasync.config import PersonalData

    env = {**ENV, "CENTRASYNC_SE_INTEGRATION_API_TOKEN": "gql-token-value"}
    settings = load_settings(write(tmp_path, GOOD + INTEGRATION_API + ANALYTICS), env)
    analytics = settings.store("se").analytics
    assert analytics is not None and settings.store("us").analytics is None
    assert analytics.personal_data is PersonalData.HASH
    assert dict(analytics.columns) == {"gift_message": "other_comment"}
    with pytest.raises(ConfigError, match="analytics reads the Integration API"):
        load_settings(write(tmp_path, GOOD + ANALYTICS), ENV)
