"""kcolor in the browser: a static site that colorizes photos on the user's device (`kcolor web`).

See `kcolor.web.site` for the site's layout and `static/` for the page.
"""

from kcolor.web.site import MAX_PIXELS, build_site, find_tflite, model_info, serve, start_server

__all__ = ["MAX_PIXELS", "build_site", "find_tflite", "model_info", "serve", "start_server"]
