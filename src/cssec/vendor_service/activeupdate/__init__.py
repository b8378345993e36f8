"""ActiveUpdate on the vendor service: versioned, content-addressed component files behind
an Ed25519-signed manifest, served to servers whose contract (end + grace) allows it.

- `models.ComponentVersionRow`: the `component_versions` table (registered on the vendor Base).
- `store`: the blob directory `<data_dir>/activeupdate/<sha256>` and the manifest cache.
- `services`: publish_component, ensure_seed_components, current_manifest, component_file,
  authorize_download, list_component_versions.
- `api.router`: POST /api/v1/activeupdate/manifest, GET /api/v1/activeupdate/files/{sha256}
  (imported by the app factory only, so the CLI never loads FastAPI routes).
- `tuf_repo`, `tuf_api`: the TUF repository; `lifetimes`: its metadata lifetimes (settings);
  `bundle`: bundles for air-gapped sites; `deltas`: pattern delta targets.
"""

from cssec.vendor_service.activeupdate.services import (
    Published,
    authorize_download,
    component_file,
    current_manifest,
    ensure_seed_components,
    list_component_versions,
    manifest_serial,
    publish_component,
)
from cssec.vendor_service.activeupdate.store import ActiveUpdateStore, BlobStore, ManifestCache

__all__ = [
    "ActiveUpdateStore",
    "BlobStore",
    "ManifestCache",
    "Published",
    "authorize_download",
    "component_file",
    "current_manifest",
    "ensure_seed_components",
    "list_component_versions",
    "manifest_serial",
    "publish_component",
]
