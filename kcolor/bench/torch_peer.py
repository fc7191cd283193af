"""The PyTorch peer of the benchmark: Isola's Pix2Pix, built as kcolor's `preset=isola`.

Imported only by the bench (`kcolor.bench.cases`, `kcolor.bench.run`), never by the rest
of kcolor; PyTorch is the `bench` extra (`pip install -e .[bench]`), not a dependency.
The networks follow kcolor's `pix2pix(preset="isola")` layer by layer (Isola et al.
2017, "Image-to-Image Translation with Conditional Adversarial Networks",
arXiv:1611.07004), so the two frameworks do the same arithmetic:

- generator: the U-Net of `kcolor.models.unet` with 64..512 filters and as many levels as
  the size halves (7 at 128, 8 at 256): 4x4 stride-2 convs (padding 1, TensorFlow's
  "same" for even sizes), BatchNorm except on the first and innermost levels,
  LeakyReLU 0.2; 4x4 stride-2 transposed convs, BatchNorm, dropout 0.5 in the three
  innermost decoder blocks, ReLU; a biased transposed conv and a sigmoid out. Convs
  followed by BatchNorm carry no bias, nor do the first and innermost. The decoder reads
  `cat([x, skip])` as Isola's reference code does (kcolor sums one transposed conv per
  part instead: the same weights, the same FLOPs, less memory);
- discriminator: the 70x70 PatchGAN of `kcolor.models.patchgan` on `cat(gray, rgb)`
  rescaled to [-1, 1]: C64 (biased, no BatchNorm), C128, C256 (4x4 stride 2), C512
  (4x4 stride 1, padding 1), a 1-channel 4x4 conv (padding 1) of logits;
- BatchNorm with Keras' defaults (epsilon 1e-3, momentum 0.99, i.e. torch momentum 0.01);
  Adam with Keras' defaults and Pix2Pix's rate (2e-4, betas 0.5/0.999, epsilon 1e-7);
- the train step of `kcolor.training.gan_step`: generator forward, the discriminator on
  the fake once (it feeds both losses), the generator's gradients and update, then the
  discriminator on the real pair and its update. Generator loss BCE + 100 * L1,
  discriminator loss BCE(real) + BCE(fake), both on logits.

Configurations (`measure_train`'s case keys): `precision` "float32" or "bfloat16"
(`torch.autocast("cpu", torch.bfloat16)` around the forward passes; losses in float32),
`channels_last` (NHWC memory format for weights and activations), `compile`
(`torch.compile` of both networks), `fused_adam` (Adam's fused kernel when this torch
has it on CPU; else its for-each form).

Example:
    from kcolor.bench.torch_peer import build_networks
    generator, discriminator = build_networks(256)   # 54.4 M and 2.77 M parameters
"""

from kcolor.bench.stats import peak_rss_mb, time_train  # TensorFlow-free, as this process must stay
from kcolor.errors import KcolorError
from kcolor.shapes import max_levels

LUMA_601 = (0.299, 0.587, 0.114)  # kcolor.color.rgb_to_gray's weights (ITU-R 601)
PRECISIONS = ("float32", "bfloat16")
INSTALL_HINT = "pip install -e .[bench]"


def require_torch():
    """Import torch, or raise a KcolorError that says how to install the bench extra."""
    try:
        import torch
    except ImportError as err:
        raise KcolorError(
            f"The PyTorch peer of the benchmark needs PyTorch, which is not installed ({err}). "
            f"Install the bench extra: {INSTALL_HINT}"
        ) from None
    return torch


def build_networks(image_size, *, base_filters=64, max_filters=512, dropout=0.5, dropout_levels=3):
    """`(generator, discriminator)`: torch modules of Isola's Pix2Pix at `image_size`.

    The generator maps gray `[B, 1, H, W]` in [0, 1] to RGB in [0, 1]; the discriminator
    maps `(gray, rgb)` to patch logits `[B, 1, H/8 - 2, W/8 - 2]`.
    """
    torch = require_torch()
    nn = torch.nn
    levels = max_levels(int(image_size))
    if levels < 2:
        raise ValueError(f"kcolor.bench.torch_peer: image_size={image_size} must halve at least twice (e.g. 128 or 256)")
    filters = [min(base_filters * 2**i, max_filters) for i in range(levels)]

    def bn(channels):
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.ModuleList()
            cin = 1
            for i, f in enumerate(filters):
                block = [nn.Conv2d(cin, f, 4, 2, 1, bias=False)]
                if 0 < i < levels - 1:
                    block.append(bn(f))
                block.append(nn.LeakyReLU(0.2))
                self.down.append(nn.Sequential(*block))
                cin = f
            self.up = nn.ModuleList()
            for j, f in enumerate(reversed(filters[:-1])):
                skip = 0 if j == 0 else filters[levels - 1 - j]
                block = [nn.ConvTranspose2d(cin + skip, f, 4, 2, 1, bias=False), bn(f)]
                if dropout and j < dropout_levels:
                    block.append(nn.Dropout(dropout))
                block.append(nn.ReLU())
                self.up.append(nn.Sequential(*block))
                cin = f
            self.out = nn.ConvTranspose2d(cin + filters[0], 3, 4, 2, 1, bias=True)

        def forward(self, gray):
            x = gray * 2.0 - 1.0
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
            for j, block in enumerate(self.up):
                x = block(x if j == 0 else torch.cat([x, skips[levels - 1 - j]], 1))
            return torch.sigmoid(self.out(torch.cat([x, skips[0]], 1)).float())

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            b = base_filters
            self.net = nn.Sequential(
                nn.Conv2d(4, b, 4, 2, 1, bias=True), nn.LeakyReLU(0.2),
                nn.Conv2d(b, 2 * b, 4, 2, 1, bias=False), bn(2 * b), nn.LeakyReLU(0.2),
                nn.Conv2d(2 * b, 4 * b, 4, 2, 1, bias=False), bn(4 * b), nn.LeakyReLU(0.2),
                nn.Conv2d(4 * b, 8 * b, 4, 1, 1, bias=False), bn(8 * b), nn.LeakyReLU(0.2),
                nn.Conv2d(8 * b, 1, 4, 1, 1, bias=True),
            )

        def forward(self, gray, rgb):
            return self.net(torch.cat([gray * 2.0 - 1.0, rgb * 2.0 - 1.0], 1)).float()

    return Generator(), Discriminator()


def count_parameters(module):
    """Trainable parameters (weights, biases, BatchNorm scale/offset; no running statistics)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _adam(torch, params, fused):
    kwargs = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    if fused:
        try:
            return torch.optim.Adam(params, fused=True, **kwargs), "fused"
        except (RuntimeError, TypeError, ValueError):  # no fused CPU Adam in this torch
            pass
    return torch.optim.Adam(params, foreach=True, **kwargs), "foreach"


def make_step(generator, discriminator, g_opt, d_opt, *, precision="float32"):
    """`step(rgb) -> dict of float losses`: one Pix2Pix train step (see the module doc)."""
    torch = require_torch()
    F = torch.nn.functional
    luma = torch.tensor(LUMA_601).view(1, 3, 1, 1)
    g_params = [p for p in generator.parameters() if p.requires_grad]
    d_params = [p for p in discriminator.parameters() if p.requires_grad]
    if precision == "bfloat16":
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    else:
        import contextlib

        autocast = contextlib.nullcontext

    def step(rgb):
        gray = (rgb * luma).sum(1, keepdim=True)
        if rgb.is_contiguous(memory_format=torch.channels_last):
            gray = gray.contiguous(memory_format=torch.channels_last)
        with autocast():
            fake = generator(gray)
        fake_in = fake.detach().requires_grad_(True)  # the fake pass feeds both losses
        with autocast():
            fake_logits = discriminator(gray, fake_in)
        gan = F.softplus(-fake_logits).mean()  # BCE(fake, 1), non-saturating
        recon = (fake - rgb).abs().mean()  # L1
        (d_fake_in,) = torch.autograd.grad(gan, fake_in, retain_graph=True)
        torch.autograd.backward([100.0 * recon, fake], [None, d_fake_in], inputs=g_params)
        g_opt.step()
        g_opt.zero_grad(set_to_none=True)
        with autocast():
            real_logits = discriminator(gray, rgb)
        d_real = F.softplus(-real_logits).mean()
        d_fake = F.softplus(fake_logits).mean()
        (d_real + d_fake).backward(inputs=d_params)
        d_opt.step()
        d_opt.zero_grad(set_to_none=True)
        return {"total": float((gan + 100.0 * recon).detach()), "d_total": float((d_real + d_fake).detach())}

    return step


def measure_train(case):
    """Images/s of the peer's train step (runs in the bench's child process).

    Case keys: `size`, `batch`, `steps`, `warmup`, `intra_op` (threads; 0 = torch's
    choice), `precision`, `channels_last`, `compile`, `fused_adam`.
    """
    torch = require_torch()
    precision = case.get("precision", "float32")
    if precision not in PRECISIONS:
        raise ValueError(f"kcolor.bench.torch_peer: unknown precision {precision!r}. Valid choices: {', '.join(PRECISIONS)}")
    if case.get("intra_op"):
        torch.set_num_threads(int(case["intra_op"]))
    torch.manual_seed(0)
    size, batch_size = int(case["size"]), int(case["batch"])
    generator, discriminator = build_networks(size)
    params = {"colorizer": count_parameters(generator), "discriminator": count_parameters(discriminator)}
    channels_last = bool(case.get("channels_last", True))
    rgb = torch.rand(batch_size, 3, size, size)
    if channels_last:
        generator = generator.to(memory_format=torch.channels_last)
        discriminator = discriminator.to(memory_format=torch.channels_last)
        rgb = rgb.contiguous(memory_format=torch.channels_last)
    generator.train()
    discriminator.train()
    g_opt, adam = _adam(torch, generator.parameters(), case.get("fused_adam", True))
    d_opt, _ = _adam(torch, discriminator.parameters(), case.get("fused_adam", True))
    if case.get("compile"):
        generator, discriminator = torch.compile(generator), torch.compile(discriminator)
    step = make_step(generator, discriminator, g_opt, d_opt, precision=precision)
    # eager on CPU: a step returns when it is done (the losses are read)
    result = time_train(lambda: step(rgb), batch_size, steps=case["steps"], warmup=case["warmup"])
    return {
        **result,
        "params": params,
        "peak_rss_mb": peak_rss_mb(),
        "policy": precision,
        "adam": adam,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


__all__ = ["INSTALL_HINT", "PRECISIONS", "build_networks", "count_parameters", "make_step", "measure_train", "require_torch"]
