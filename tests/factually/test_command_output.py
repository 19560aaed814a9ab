"""Management commands say only what they have to say: no library banners."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent


def test_a_management_command_prints_no_axes_banner():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "factually.settings",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
