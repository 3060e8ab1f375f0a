"""Fuzz the config.toml loader (service.config_store + service.profiles, tomlkit inside).

Input: the bytes of a config.toml. Loading may only raise the documented errors
(ConfigError with the file named, InvalidValueError naming a key); a file that loads
must survive a rewrite: saving every profile back gives valid TOML that loads to the
same profiles.

    python fuzz/fuzz_config.py [libFuzzer flags] NEW_INPUTS_DIR fuzz/corpus/config
"""
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["service", "tomlkit"]):
    import tomlkit
    from service.config_store import ConfigStore
    from service.errors import ConfigError, ConfigParseError, InvalidValueError
    from service.profiles import NAME_RE, load_profiles, set_profile

# libFuzzer exits without running atexit handlers: the caller points $TMPDIR at a
# directory it removes (make fuzz: reports/fuzz/tmp; the pytest smoke test: tmp_path).
WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-config-"))
PATH = WORKDIR / "config.toml"


def check(data: bytes) -> None:
    PATH.write_bytes(data)
    store = ConfigStore(PATH)
    try:
        profiles = store.profiles()
    except ConfigParseError as exc:
        assert str(PATH) in str(exc) and exc.line >= 0, str(exc)
        return
    except ConfigError as exc:
        assert str(PATH) in str(exc), str(exc)
        return
    except InvalidValueError as exc:
        assert exc.key, str(exc)
        return
    doc = store.load()
    for profile in profiles.values():
        # gc's files may hold names we refuse to write (spaces...): those stay untouched.
        if NAME_RE.match(profile.name):
            set_profile(doc, profile)
    again = tomlkit.parse(doc.as_string())
    assert load_profiles(again) == profiles, "a rewrite changed a profile"


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
