"""``regionstyle explain``: what a rules file does to a photo, before any stylisation."""

from __future__ import annotations

from pathlib import Path

import click

from regionstyle.cli.group import IMAGE, OUTPUT, Globals, emit, main, reported_errors
from regionstyle.cli.options import global_options


@main.command()
@click.argument("image", type=IMAGE)
@click.argument("rules", type=IMAGE)
@click.option("--labels", type=IMAGE, help="A label-map PNG of class ids (else the rules' labels or segmenter).")
@click.option("--classes", help="The label map's class list: a file (one name a line, or 'id name') "
                                "or a vocabulary: ade20k (0 = others), ade20k-150 (0..149), cityscapes, voc.")
@click.option("--overlay", type=OUTPUT, help="Also write a colour overlay of the regions with a legend.")
@click.option("--segmenter-weights", type=click.Path(exists=True),
              help="A local checkpoint (file or folder) for the segmenter the rules choose.")
@click.option("--overwrite", is_flag=True, help="Replace an existing overlay file.")
@global_options
@click.pass_obj
def explain(g: Globals, image: Path, rules: Path, labels: Path | None, classes: str | None,
            overlay: Path | None, segmenter_weights: str | None, overwrite: bool) -> None:
    """Show which style each region of IMAGE gets under RULES, and each region's share."""
    with reported_errors(g):
        from regionstyle import io, pipeline
        from regionstyle.rules import load_ruleset

        from regionstyle.rules import folder_files, referenced_files

        ruleset = load_ruleset(rules)
        inputs = [image, rules, *[Path(p) for p in (labels, classes, segmenter_weights) if p is not None],
                  *referenced_files(ruleset), *folder_files(labels)]
        if overlay is not None:
            io.check_writable([overlay], protect=inputs, overwrite=overwrite)
            io.output_format(overlay, None)
        photo = io.read_image(image)
        data, masks, _ = pipeline.explain(photo.pixels, ruleset, labels=labels, classes=classes,
                                          segmenter_weights=segmenter_weights, device=g.device or "auto")
        if overlay is not None:
            from regionstyle.overlay import region_overlay

            data["overlay"] = str(io.write_image(overlay, region_overlay(photo.pixels, masks), protect=inputs))
        emit(g, data, render(data))


def render(data: dict) -> str:
    lines = [f"segmentation: {data['segmenter']} (vocabulary {data['vocabulary']})", ""]
    for region in data["regions"]:
        found = ", ".join(f"{name} {share * 100:.1f}%" for name, share in region["classes"].items()) or "none found"
        lines.append(f"{region['region']:<16} {region['share'] * 100:5.1f}%  -> {region['style']:<16} "
                     f"[{region['rule']}]  {found}")
        for match in region.get("matches", ()):  # the share of a painting a `match` style reads
            used = "is used" if match["used"] == "matched part" else "under 2%: the whole painting is used"
            by = f" (by the label map {match['labels']})" if match.get("labels") else ""
            lines.append(f"{'':<16} match {'+'.join(match['match'])}: {match['share'] * 100:.1f}% of "
                         f"{match['painting']}{by} {used}")
    if data["uncovered_classes"]:
        found = ", ".join(f"{n} {s * 100:.1f}%" for n, s in data["uncovered_classes"].items())
        lines.append(f"\nnot covered by any rule (stay as in the photo): {found}")
    if data["unused_rules"]:
        lines.append(f"rules that style nothing in this image: {', '.join(data['unused_rules'])}")
    if data["unknown_names"]:
        lines.append(f"names this vocabulary lacks: {', '.join(data['unknown_names'])}")
    if data.get("overlay"):
        lines.append(f"overlay written to {data['overlay']}")
    return "\n".join(lines)
