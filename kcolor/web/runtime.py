"""The LiteRT.js runtime that `kcolor web` copies into each site: which files, from where.

One list, read by `kcolor.web.site` (to find and copy the runtime) and by the build
(`setup.py` loads this file by its path, before kcolor is installed, so it imports
nothing). The build copies these files and each package's licence from `node_modules`
into `kcolor/web/litert/`, the copy a wheel carries, laid out like `node_modules`.

Example:
    for site_path, npm_path in SITE_FILES.items():
        print(site_path, "<-", npm_path)   # litert/core/index.js <- @litertjs/core/dist/index.js
"""

LITERT_PACKAGE = "@litertjs/core"
PACKAGES = (LITERT_PACKAGE, "@litertjs/wasm-utils")  # the core and the one package it depends on
# LiteRT.js picks the relaxed-SIMD build where the browser has it, the compat build elsewhere.
# The threaded and JSPI builds are not shipped: threads need a cross-origin-isolated server.
LITERT_WASM = ("litert_wasm_internal", "litert_wasm_compat_internal")
PACKAGED = "litert"  # kcolor/web/litert/: the wheel's copy
LICENSE = "LICENSE"  # the name of each package's licence in the wheel's copy

SITE_FILES = {
    "litert/core/index.js": f"{LITERT_PACKAGE}/dist/index.js",
    "litert/core/package.json": f"{LITERT_PACKAGE}/package.json",
    "litert/wasm-utils/index.js": "@litertjs/wasm-utils/dist/index.js",
    "litert/wasm-utils/package.json": "@litertjs/wasm-utils/package.json",
    **{
        f"litert/wasm/{stem}{ext}": f"{LITERT_PACKAGE}/wasm/{stem}{ext}"
        for stem in LITERT_WASM
        for ext in (".js", ".wasm")
    },
}  # {path in the site: path inside node_modules}
LICENSE_FILES = tuple(f"{package}/{LICENSE}" for package in PACKAGES)  # inside the wheel's copy
