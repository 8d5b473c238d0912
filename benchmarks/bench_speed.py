"""Speed and memory targets of issue 13, each measured in its own process, with the machine's load beside it.

    python benchmarks/bench_speed.py targets      # VGG19 pass; 512 / 1024 px built-ins and paintings
    python benchmarks/bench_speed.py targets --vgg-shaped   # and 1024 px paintings on a random VGG19
    python benchmarks/bench_speed.py preview      # --preview of a 12 MP photo (wall time of the command)
    python benchmarks/bench_speed.py sheet        # regionstyle styles sheet (8 styles)
    python benchmarks/bench_speed.py fair         # one run alone, then two started together (twice)
    python benchmarks/bench_speed.py print        # 2048 and 4096 px: time and peak memory
    python benchmarks/bench_speed.py all

The photo is Tübingen (1024x768) with its label map: sky, building and water styled, trees kept; either in
built-in styles (watercolor, mosaic, oil: laid in as rendered, no optimisation) or in paintings (The Starry
Night, Adele Bloch-Bauer I, The Great Wave: optimised, the work the targets are about). Every job runs the
real command line in a fresh process (so model loading,
segmentation and writing count, as a user sees them) under ``/usr/bin/time``-like accounting: wall seconds
and the peak resident memory of the process. Run it with nothing else on the machine; it prints the load
average before and after each job, and a job whose load was high is marked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PHOTO = DATA / "photos" / "tubingen_neckarfront.jpg"
RULES = """[segmentation]
labels = "{labels}"
classes = "ade20k"
[map]
sky = "{sky}"
building = "{building}"
water = "{water}"
tree = "keep"
"""
BUILTINS = {"sky": "watercolor", "building": "mosaic", "water": "oil"}
PAINTINGS = {"sky": DATA / "styles" / "vangogh_starry_night.jpg",
             "building": DATA / "styles" / "klimt_adele_bloch_bauer_i.jpg",
             "water": DATA / "styles" / "hokusai_great_wave.jpg"}
CLI = [sys.executable, "-c", "from regionstyle.cli import main; main()"]
# The command line as it runs when it finds the CPU idle at its start: the automatic thread count begins on
# every core (two runs started together can both see that) and threads.ThreadBalance must correct it.
CLI_ALL_CORES = [sys.executable, "-c", "import os; from regionstyle import threads; "
                 "threads.free_cores = lambda: len(os.sched_getaffinity(0)); from regionstyle.cli import main; main()"]
# On a GPU the pass runs under bfloat16 autocast, as the pipeline's precision "auto" does there.
REFERENCE = """
import time, torch
from regionstyle.encoder import build_encoder
from regionstyle.session import resolve_device
torch.set_num_threads({threads})
device = resolve_device("{device}")
net = build_encoder("random", taps=["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]).to(device)
x = torch.rand(1, 3, 768, 1024, device=device, requires_grad=True)
sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
times = []
for _ in range(4):
    start = time.perf_counter()
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        loss = sum(f.float().pow(2).mean() for f in net(x.contiguous(memory_format=torch.channels_last)).values())
    loss.backward()
    sync()
    times.append(time.perf_counter() - start)
print(min(times))
"""
DEVICE = ["auto"]  # --device
VGG_SHAPED = [False]  # --vgg-shaped
PASSIVE = [False]  # --passive
PRINT_PAINTINGS = [False]  # --print-paintings


# A job is marked when the load average before it exceeds this share of the cores (0.8 on the 2-core
# machine; a fixed 0.8 marked every job on a 16-core GPU host).
BUSY_SHARE = 0.4


def load() -> float:
    return os.getloadavg()[0]


def run(command: list[str], *, label: str, env: dict | None = None) -> dict:
    """Run a command to the end; its wall seconds, the peak RSS of the process, and the load around it.

    env: the child's whole environment (None: this process's)."""
    before = load()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory, not the maximum of all children
    seconds = time.perf_counter() - start
    out, err = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed ({status}): {err[-2000:]}")
    result = {"label": label, "seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
              "load_before": round(before, 2), "load_after": round(load(), 2), "stdout": out.strip()}
    busy = " (BUSY MACHINE)" if before > BUSY_SHARE * len(os.sched_getaffinity(0)) else ""
    print(f"{label:<44} {seconds:8.1f} s   peak RSS {result['peak_rss_mb']:6d} MB   load {before:.2f} -> "
          f"{result['load_after']:.2f}{busy}", flush=True)
    return result


def apply_command(work: Path, *, size: int | None = None, extra: list[str] = (), photo: Path = PHOTO,
                  name: str = "out.png", styles: dict = PAINTINGS, cli: list[str] = CLI) -> list[str]:
    rules = work / f"rules_{name}.toml"
    rules.write_text(RULES.format(labels=DATA / "labels" / "tubingen_neckarfront.png", **styles))
    command = [*cli, "apply", str(photo), str(rules), "-o", str(work / name),
               "--overwrite", "--quiet", "--device", DEVICE[0]]
    return command + (["--size", str(size)] if size else []) + list(extra)


def targets(work: Path) -> None:
    code = REFERENCE.format(threads=len(os.sched_getaffinity(0)), device=DEVICE[0])
    reference = float(run([sys.executable, "-c", code],
                          label="VGG19 forward+backward at 1024x768")["stdout"].splitlines()[-1])
    print(f"{'':<44} one pass: {reference:.2f} s")
    if reference < 0.1:  # a GPU: the pass is milliseconds and a cold process seconds, so ratios say nothing
        print(f"{'':<44} (a pass this short makes the ratios below meaningless: compare wall times)")
    rows = [("512 px, built-ins (laid in)", 512, [], BUILTINS, 1.5),
            ("1024 px, built-ins (laid in)", 1024, [], BUILTINS, 6),
            ("512 px, paintings, bundled MobileNetV2", 512, [], PAINTINGS, 1.5),
            ("1024 px, paintings, bundled MobileNetV2", 1024, [], PAINTINGS, 6)]
    if VGG_SHAPED[0]:
        rows.append(("1024 px, paintings, VGG19-shaped (random)", 1024, ["--encoder", "random"], PAINTINGS, 20))
    for label, size, extra, styles, budget in rows:
        seconds = run(apply_command(work, size=size, extra=extra, styles=styles), label=label)["seconds"]
        print(f"{'':<44} {seconds / reference:.1f} VGG19 passes (target <= {budget})")


def preview(work: Path) -> None:
    import cv2

    big = work / "twelve_mp.jpg"
    image = cv2.imread(str(PHOTO))
    cv2.imwrite(str(big), cv2.resize(image, (4000, 3000), interpolation=cv2.INTER_CUBIC),
                [cv2.IMWRITE_JPEG_QUALITY, 92])
    for what, styles in (("built-ins", BUILTINS), ("paintings", PAINTINGS)):
        rules = work / f"plain_{what}.toml"
        rules.write_text("[map]\n" + "".join(f'{region} = "{style}"\n' for region, style in styles.items()))
        run([*CLI, "apply", str(big), str(rules), "-o", str(work / "preview.png"), "--preview", "--overwrite",
             "--quiet", "--device", DEVICE[0]], label=f"--preview of a 12 MP photo, {what} (target < 5 s)")


def sheet(work: Path) -> None:
    run([*CLI, "styles", "sheet", "-o", str(work / "sheet.png"), "--overwrite",
         "--quiet"], label="styles sheet, 8 styles (target < 60 s)")


def fair(work: Path) -> None:
    """One 512 px paintings run alone, then two started together, then two that both start on every core
    (as when both find the CPU idle); with OpenMP's default wait policy (as the command line leaves it), and
    with --passive also with OMP_WAIT_POLICY=PASSIVE (idle threads sleep)."""
    for policy in ("default", "PASSIVE")[:2 if PASSIVE[0] else 1]:
        env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
        if policy != "default":
            env["OMP_WAIT_POLICY"] = policy
        alone = run(apply_command(work, size=512), label=f"512 px paintings alone, {policy}", env=env)["seconds"]
        _together(work, alone, env, cli=CLI, label=f"two 512 px paintings runs together, {policy}")
        _together(work, alone, env, cli=CLI_ALL_CORES, label=f"the same, both starting on every core, {policy}")


def _together(work: Path, alone: float, env: dict, *, cli: list[str], label: str) -> None:
    before = load()
    start = time.perf_counter()
    processes = [subprocess.Popen(apply_command(work, size=512, name=f"twin{i}.png", cli=cli),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for i in range(2)]
    finished = []
    for process in processes:
        process.wait()
        finished.append(time.perf_counter() - start)
    print(f"{label:<44} {max(finished):8.1f} s   each {finished[0]:.1f} / {finished[1]:.1f} s = "
          f"{max(finished) / alone:.2f}x alone (target <= 2.5)   load {before:.2f} -> {load():.2f}", flush=True)


def print_sizes(work: Path) -> None:
    """Built-ins (laid in); with --print-paintings also paintings (optimised in windows: on 2 CPU cores that
    takes half an hour at 2048 px and hours at 4096 px)."""
    for size in PRINT_SIZES:
        run(apply_command(work, size=size, styles=BUILTINS), label=f"{size} px, built-ins (memory <= 4 GB)")
        if PRINT_PAINTINGS[0]:
            run(apply_command(work, size=size), label=f"{size} px, paintings, MobileNetV2 (memory <= 4 GB)")


PRINT_SIZES = [2048, 4096]
JOBS = {"targets": targets, "preview": preview, "sheet": sheet, "fair": fair, "print": print_sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="+", choices=[*JOBS, "all"])
    parser.add_argument("--print-sizes", type=int, nargs="+", default=PRINT_SIZES,
                        help="long sides for the print job [default: 2048 4096]")
    parser.add_argument("--device", default="auto", help="device for every job (auto: CUDA when present)")
    parser.add_argument("--vgg-shaped", action="store_true", help="targets: add the 1024 px random-VGG19 run")
    parser.add_argument("--passive", action="store_true", help="fair: also with OMP_WAIT_POLICY=PASSIVE")
    parser.add_argument("--print-paintings", action="store_true", help="print: paintings too (hours on a CPU)")
    args = parser.parse_args()
    PRINT_SIZES[:] = args.print_sizes
    DEVICE[0] = args.device
    VGG_SHAPED[0], PASSIVE[0], PRINT_PAINTINGS[0] = args.vgg_shaped, args.passive, args.print_paintings
    if not DATA.is_dir():
        sys.exit(f"needs {DATA}")
    print(f"cores {len(os.sched_getaffinity(0))}, load {load():.2f}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        if sys.flags.dont_write_bytecode:
            cache_bytecode(Path(folder) / "pycache")
        for job in (list(JOBS) if "all" in args.jobs else args.jobs):
            JOBS[job](Path(folder))


def cache_bytecode(prefix: Path) -> None:
    """Let the jobs' processes cache compiled bytecode, as every installed Python does, and warm the cache.

    The lent GPU machines set PYTHONDONTWRITEBYTECODE, so each cold process there compiled torch's 1,800
    modules from source: 5-7 s that a user's install (pip writes .pyc) never pays (benchmarks/README.md)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    print(f"PYTHONDONTWRITEBYTECODE was set: the jobs cache bytecode in {prefix} instead", flush=True)
    run([*CLI, "--help"], label="warming the bytecode cache (command line)")
    run([sys.executable, "-c", "import torchvision, torch.optim, regionstyle.pipeline, regionstyle.optimize"],
        label="warming the bytecode cache (torchvision, optimiser)")


if __name__ == "__main__":
    main()
