"""bench.png: the run's figures beside their baselines and targets (needs matplotlib)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _bars(ax, labels, values, title, unit, colors=None):
    shown = [v if v is not None else 0 for v in values]
    bars = ax.bar(labels, shown, color=colors)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate("n/a" if value is None else f"{value:.0f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    ax.tick_params(axis="x", labelsize=8, rotation=15)


def draw(results: dict, path: Path) -> None:
    http = results.get("http", {})
    cli = results.get("cli", {})
    login = results.get("login", {})
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    keys = [("ours_token", "our token"), ("ours_token_flask", "token, no fast path"),
            ("ours_users_me", "our users/me"), ("peer_token", "peer token"),
            ("ceiling", "Flask ceiling")]
    colors = ["tab:blue", "tab:cyan", "tab:blue", "tab:gray", "tab:gray"]
    _bars(axes[0][0], [k[1] for k in keys],
          [http.get(k, {}).get("requests_per_s") for k, _ in keys],
          "Throughput (wrk, loopback)", "req/s", colors)
    _bars(axes[0][1], [k[1] for k in keys], [http.get(k, {}).get("p99_ms") for k, _ in keys],
          "p99 latency (target for our token: < 20 ms)", "ms", colors)
    axes[0][1].axhline(20, color="tab:red", linestyle="--", linewidth=1)
    cli_keys = [("floor", "python -c pass"), ("profiles_list", "profiles list"),
                ("users_me_get", "users me get")]
    _bars(axes[1][0], [k[1] for k in cli_keys],
          [cli.get(k, {}).get("median_ms") for k, _ in cli_keys],
          "CLI wall time, median (target: users me get <= 5x floor)", "ms",
          ["tab:gray", "tab:blue", "tab:blue"])
    floor = cli.get("floor", {}).get("median_ms")
    if floor:
        axes[1][0].axhline(5 * floor, color="tab:red", linestyle="--", linewidth=1)
    login_keys = [(f, m) for f in ("implicit", "pkce") for m in ("warm", "cold")]
    login_keys += [("floor_implicit", "warm"), ("floor_pkce", "warm")]
    _bars(axes[1][1], [f"{f.replace('floor_', 'floor ')} {m}" for f, m in login_keys],
          [login.get(f, {}).get(m, {}).get("median_saved_ms") for f, m in login_keys],
          "Login to profile saved, median (targets: warm 300 ms, cold 2500 ms)", "ms",
          ["tab:blue", "tab:orange"] * 2 + ["tab:gray"] * 2)
    axes[1][1].axhline(300, color="tab:red", linestyle="--", linewidth=1)
    axes[1][1].axhline(2500, color="tab:red", linestyle=":", linewidth=1)
    fig.suptitle(f"gclogin bench, {results['date']} ({results['mode']} run, "
                 f"{results['machine']['cpus']} CPUs)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
