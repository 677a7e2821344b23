"""The open-data portal: a static site per release, built from the release manifests and the release's export.

Owns the site's pages (Jinja2 templates in `templates/`), its SVG maps and charts, the atomic swap of
`data/portal/site/`, and a small HTTP server for it (CKAN URLs mapped to the static API files).
Must not: read the lakehouse or anything but exported files and manifests (no personal value can reach
a page), or fetch anything from the network (the site works offline).
"""

from citydata.portal.build import PortalBuild, build_portal, site_dir
from citydata.portal.content import PortalError

__all__ = ["PortalBuild", "PortalError", "build_portal", "site_dir"]
