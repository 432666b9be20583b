"""What `--augment` switches on: mild changes that keep a drawing or a photo what it is.

No flips: an upside-down smiley is a class of its own, and so is a mirrored digit. A plain
dict with no imports, so the command line's help can name it at once; `config` re-exports it.
"""

STANDARD_AUGMENT: dict[str, float] = {
    "rotation_deg": 12.0,
    "shift": 0.08,
    "zoom": 0.1,
    "brightness": 0.1,
    "contrast": 0.1,
    "noise_std": 0.02,
}
