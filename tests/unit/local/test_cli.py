"""The `paymux` CLI's argument handling and its errors when there is nothing to act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from paymux.cli import build_parser, main


@pytest.fixture(autouse=True)
def empty_paymux_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PAYMUX_HOME", str(tmp_path))
    return tmp_path


def test_commands_parse() -> None:
    parser = build_parser()

    assert parser.parse_args(["local"]).port == 3000
    assert parser.parse_args(["local", "--port", "4000"]).port == 4000
    assert parser.parse_args(["merchants", "create", "Acme Ltd"]).name == "Acme Ltd"
    channels = parser.parse_args(
        ["channels", "set", "mch_1", "alipay", "--mode", "live", "--config", "a.json"]
    )
    assert (channels.merchant, channels.channel, channels.mode, channels.config) == (
        "mch_1",
        "alipay",
        "live",
        "a.json",
    )


def test_a_mode_other_than_test_or_live_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(
            ["channels", "set", "mch_1", "alipay", "--mode", "prod", "--config", "a.json"]
        )

    assert raised.value.code == 2
    assert "invalid choice: 'prod'" in capsys.readouterr().err


def test_merchants_create_without_a_platform_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["merchants", "create", "Acme"]) == 1

    err = capsys.readouterr().err
    assert "no local paymux platform is running" in err
    assert "`make run` or `paymux local`" in err


def test_channels_set_checks_the_channel_and_the_file_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "alipay.json"
    config.write_text("[1, 2]")

    assert main(["channels", "set", "mch_1", "paypal", "--mode", "test", "--config", str(config)]) == 1
    assert "Unknown channel: 'paypal'" in capsys.readouterr().err
    assert main(["channels", "set", "mch_1", "alipay", "--mode", "test", "--config", str(config)]) == 1
    assert "must hold a JSON object" in capsys.readouterr().err
    config.write_text("{nope")
    assert main(["channels", "set", "mch_1", "alipay", "--mode", "test", "--config", str(config)]) == 1
    assert "is not JSON" in capsys.readouterr().err
    assert (
        main(["channels", "set", "mch_1", "alipay", "--mode", "test", "--config", str(tmp_path / "x")]) == 1
    )
    assert "cannot read" in capsys.readouterr().err
