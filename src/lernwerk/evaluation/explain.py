"""Why did the network decide so? Saliency and feature maps for one input.

- Integrated gradients (Sundararajan et al. 2017, Captum's `IntegratedGradients`) for any
  network: how much each input value moved the output from a baseline input to this one.
  The baseline is a black image for images (what "nothing there" means to a learner) and
  the training mean for tables and sequences (zero after standardisation). The
  attributions of a sample add up to the output's change (the "completeness" property),
  which `convergence` reports.
- Grad-CAM (Selvaraju et al. 2017, Captum's `LayerGradCam`) for networks with 2-D
  convolutions: a late convolution's maps weighted by their gradients, as a coarse map
  scaled up to the image (the last one with maps of at least 7×7).
- Feature maps: what each convolution layer of the network outputs for the input.

The target is the predicted class (or one named), for regression the first output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lernwerk.errors import DataError, SpecError
from lernwerk.export.bundle import Predictor
from lernwerk.models.registry import fmt_shape
from lernwerk.training.tasks import ClassificationTask, RegressionTask

IG_STEPS = 32  # Riemann steps of integrated gradients; completeness holds to ~1 % at 32
MAX_MAPS = 32  # feature maps kept per layer (the first ones): enough to see, small to send


@dataclass
class Explanation:
    """The numbers behind the pictures, all for one input."""

    kind: str  # "images", "sequences" or "table"
    target: int  # the output explained
    target_name: str | None  # its class, for classification
    outputs: list[float]  # probabilities (classification) or values (regression)
    attribution: np.ndarray  # integrated gradients, the sample's shape
    convergence: float  # |sum of attributions - output change|, in the output's units
    gradcam: np.ndarray | None = None  # (H, W) in [0, 1], for 2-D convolutional networks
    feature_maps: list[dict[str, Any]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # table: one per feature
    ms: float = 0.0

    def saliency(self) -> np.ndarray:
        """The attribution as one value per pixel (images: |·| summed over channels,
        scaled to [0, 1]), per time step (sequences: the same over channels), or per
        feature (tables: signed, as computed)."""
        if self.kind == "table":
            return self.attribution
        summed = np.abs(self.attribution).sum(axis=0)  # (H, W) or (T,)
        top = float(summed.max())
        return summed / top if top > 0 else summed

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: every array as nested lists, rounded to 4 significant digits."""
        return {
            "kind": self.kind,
            "target": self.target,
            "target_name": self.target_name,
            "outputs": self.outputs,
            "attribution": _round(self.attribution),
            "saliency": _round(self.saliency()),
            "convergence": self.convergence,
            "gradcam": None if self.gradcam is None else _round(self.gradcam),
            "feature_maps": [{**m, "maps": _round(m["maps"])} for m in self.feature_maps],
            "names": self.names,
            "ms": self.ms,
        }


def _round(a: np.ndarray) -> list:
    return np.vectorize(lambda v: float(f"{v:.4g}"))(a).tolist() if a.size else a.tolist()


def explain(
    predictor: Predictor, x: torch.Tensor, *, target: str | int | None = None
) -> Explanation:
    """Explain the prediction for one raw input `x` (the sample's shape, as the dataset
    holds it: images in [0, 1]).

    Raises:
        SpecError: the run's task has no output to explain (anomaly detection,
            forecasting), or `target` names no class.
        DataError: `x` does not have the model's input shape.
    """
    from captum.attr import IntegratedGradients

    task, network = predictor.task, predictor.network
    if type(task) not in (ClassificationTask, RegressionTask):
        raise SpecError(
            f"explain works on classification and regression runs; this run is {task.name}",
            where="run",
        )
    x = torch.as_tensor(x, dtype=torch.float32)
    if tuple(x.shape) != predictor.input_shape:
        raise DataError(
            f"the input has shape {fmt_shape(tuple(x.shape))}; the model expects "
            f"{fmt_shape(predictor.input_shape)}",
            where="input",
        )
    started = time.perf_counter()
    kind = predictor.standardizer.kind
    device = predictor.device
    xs = predictor.standardizer.transform(x.unsqueeze(0).to(device))  # (1, *shape)
    if kind == "images":  # a black image
        baseline = predictor.standardizer.transform(torch.zeros_like(x).unsqueeze(0).to(device))
    else:  # the training mean
        baseline = torch.zeros_like(xs)
    network.eval()
    with torch.no_grad():
        logits = network(xs)  # (1, outputs)
    index, name = _target(task, logits, target)
    forward = _signed(network, task, logits)
    ig = IntegratedGradients(forward)
    attr, delta = ig.attribute(
        xs,
        baselines=baseline,
        target=index if logits.shape[1] > 1 else 0,
        n_steps=IG_STEPS,
        internal_batch_size=IG_STEPS,
        return_convergence_delta=True,
    )
    with torch.inference_mode():
        outputs = task.predict(logits.float(), xs)[0].cpu().tolist()
    explanation = Explanation(
        kind=kind,
        target=index,
        target_name=name,
        outputs=[float(v) for v in outputs],
        attribution=attr[0].detach().cpu().numpy(),
        convergence=float(delta.abs().max()),
        names=_feature_names(predictor) if kind == "table" else [],
    )
    if kind == "images":
        explanation.gradcam = _gradcam(forward, network, xs, index if logits.shape[1] > 1 else 0)
        explanation.feature_maps = _feature_maps(network, xs)
    explanation.ms = (time.perf_counter() - started) * 1000
    return explanation


def _target(task: Any, logits: torch.Tensor, target: str | int | None) -> tuple[int, str | None]:
    """The output to explain: the predicted class unless one is named (classification);
    the first output (regression)."""
    if not isinstance(task, ClassificationTask):
        return 0, None
    classes = list(task.classes)
    if target is None:
        if logits.shape[1] == 1:  # binary, one logit: class 1 when it is positive
            index = int(logits[0, 0] > 0)
        else:
            index = int(logits[0].argmax())
        return index, classes[index]
    if isinstance(target, str) and target in classes:
        return classes.index(target), target
    if isinstance(target, int) and 0 <= target < len(classes):
        return target, classes[target]
    raise SpecError(
        f"target must be one of the classes {', '.join(classes)}; received {target!r}",
        where="target",
    )


def _signed(network: nn.Module, task: Any, logits: torch.Tensor) -> nn.Module:
    """The network, its single logit negated when the explained class is 0 (binary
    classification): attributions then speak for the class shown, as for several outputs."""
    if not (isinstance(task, ClassificationTask) and logits.shape[1] == 1 and logits[0, 0] <= 0):
        return network

    class _Negated(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = network

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return -self.inner(x)

    return _Negated()


def _gradcam(
    forward: nn.Module, network: nn.Module, xs: torch.Tensor, target: int
) -> np.ndarray | None:
    """Grad-CAM on the network's last 2-D convolution, scaled up to the image, in [0, 1]."""
    from captum.attr import LayerAttribution, LayerGradCam

    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        return None
    cam = LayerGradCam(forward, _cam_layer(network, convs, xs)).attribute(
        xs, target=target, relu_attributions=True
    )
    cam = LayerAttribution.interpolate(cam, tuple(xs.shape[-2:]), interpolate_mode="bilinear")
    cam = cam[0, 0].detach().cpu().numpy()  # (H, W)
    top = float(cam.max())
    return cam / top if top > 0 else cam


CAM_MIN_SIDE = 7  # a map smaller than this says little once scaled up to the image


def _cam_layer(network: nn.Module, convs: list[nn.Conv2d], xs: torch.Tensor) -> nn.Conv2d:
    """The last convolution whose maps are at least CAM_MIN_SIDE on each side (the last
    one when none is): Grad-CAM's usual choice, the last, gives 3×3 in a small CNN."""
    sides: dict[int, int] = {}
    hooks = [
        c.register_forward_hook(lambda _m, _in, out, i=i: sides.__setitem__(i, min(out.shape[-2:])))
        for i, c in enumerate(convs)
    ]
    try:
        with torch.no_grad():
            network(xs)
    finally:
        for hook in hooks:
            hook.remove()
    fine = [i for i, side in sides.items() if side >= CAM_MIN_SIDE]
    return convs[max(fine)] if fine else convs[-1]


def _feature_maps(network: nn.Module, xs: torch.Tensor) -> list[dict[str, Any]]:
    """What each top-level layer with a 2-D convolution in it outputs for the input (the
    first `MAX_MAPS` channels), with the layer's index and type."""
    table = getattr(network, "layer_table", None)
    layers = getattr(network, "layers", None)
    if table is None or layers is None:
        return []
    wanted = {
        i: (index, type_name)
        for i, ((index, type_name, _), module) in enumerate(zip(table, layers, strict=True))
        if any(isinstance(m, nn.Conv2d) for m in module.modules())
    }
    captured: dict[int, torch.Tensor] = {}
    # a layer with its activation is an nn.Sequential whose parts the network runs one by
    # one (Network._parts): the layer's output is its last part's
    hooks = [
        _last_part(layers[i]).register_forward_hook(
            lambda _m, _in, out, i=i: captured.__setitem__(i, out.detach())
        )
        for i in wanted
    ]
    try:
        with torch.no_grad():
            network(xs)
    finally:
        for hook in hooks:
            hook.remove()
    maps = []
    for i, (index, type_name) in wanted.items():
        out = captured.get(i)
        if out is None or out.dim() != 4:
            continue
        maps.append(
            {
                "layer": index,
                "type": type_name,
                "channels": int(out.shape[1]),
                "maps": out[0, :MAX_MAPS].float().cpu().numpy(),  # (C', h, w)
            }
        )
    return maps


def _last_part(module: nn.Module) -> nn.Module:
    return module[-1] if type(module) is nn.Sequential else module


def _feature_names(predictor: Predictor) -> list[str]:
    names = list(predictor.meta.get("feature_names") or [])
    count = predictor.input_shape[0]
    return names if len(names) == count else [f"feature {i + 1}" for i in range(count)]
