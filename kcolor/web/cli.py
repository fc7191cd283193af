"""`kcolor web`: write the browser site for an exported model, or serve one.

    kcolor web runs/sample-pix2pix --quantize int8 --out site/
    kcolor web exports/pix2pix.tflite --out site/
    kcolor web --serve site/            # prints http://127.0.0.1:8000/
"""

from kcolor.web.site import MAX_PIXELS


def add_command(sub):
    """Add the `web` subcommand to the `kcolor` parser's subparsers."""
    p = sub.add_parser("web", help="write (or --serve) a static site that colorizes photos in the browser")
    p.add_argument("model", nargs="?", help="run folder (its TFLite export) or .tflite file")
    p.add_argument("--out", default=None, help="site folder to write")
    p.add_argument("--quantize", default=None, choices=("none", "float16", "dynamic", "int8"),
                   help="which of the run's TFLite exports (needed when it has several)")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS, help=f"largest photo the page takes (default {MAX_PIXELS:,})")
    p.add_argument("--node-modules", default=None,
                   help="where @litertjs/core is installed (default: the checkout's node_modules, else the wheel's copy)")
    p.add_argument("--serve", metavar="DIR", default=None, help="serve a written site on 127.0.0.1 instead")
    p.add_argument("--port", type=int, default=8000, help="port for --serve (0 picks a free one)")
    p.set_defaults(func=run)
    return p


def run(args):
    from kcolor.web.site import build_site, serve

    if args.serve:
        if args.model or args.out:
            raise ValueError("--serve DIR serves a written site; write it first with: kcolor web MODEL --out DIR")
        serve(args.serve, port=args.port, log=lambda msg: print(msg, flush=True))
        return 0
    if not args.model or not args.out:
        raise ValueError("kcolor web needs MODEL and --out DIR (or --serve DIR). Example: kcolor web runs/RUN --out site/")
    result = build_site(args.model, args.out, quantize=args.quantize, node_modules=args.node_modules,
                        max_pixels=args.max_pixels)
    info = result["model"]
    print(
        f"wrote {result['path']} ({result['size_bytes'] / 1e6:.1f} MB): {info['model']} {info['quantize']} "
        f"at {info['image_size']}x{info['image_size']}; serve it with: kcolor web --serve {result['path']}"
    )
    return 0
