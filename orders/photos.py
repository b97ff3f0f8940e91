"""A customer's photo, checked and re-encoded: the one way every customer page (problem reports on
the tracking page, return items, product reviews) takes an uploaded image.

A customer's photo is untrusted bytes: it is decoded only as JPEG, PNG or WebP (whatever its
name or the browser's content type say), refused before decoding when too big in bytes or in
pixels, and stored only as we re-encode it, which drops its metadata (EXIF, GPS position)."""

import io
import warnings
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

PHOTO_MAX_BYTES = 5 * 1024 * 1024
# A decompression-bomb guard far below Pillow's own (~89 megapixels): no phone photo needs more.
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_MAX_SIDE = 2000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"
PHOTO_ERROR = _("Choose a JPEG, PNG or WebP photo under 5 MB.")


class PhotoRejected(Exception):
    """The upload is not a photo we accept; the customer sees PHOTO_ERROR."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str


def _has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return image.mode == "P" and "transparency" in image.info


def photo_clean(upload: UploadedFile) -> Photo:
    """The upload decoded, downscaled and re-encoded; PhotoRejected when it is not a JPEG, PNG
    or WebP image that decodes completely within the size limits."""
    # The size is known from the upload's headers: refuse before reading a byte of it.
    if upload.size is None or upload.size > PHOTO_MAX_BYTES:
        raise PhotoRejected
    upload.seek(0)
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if not data or len(data) > PHOTO_MAX_BYTES:
        raise PhotoRejected
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # `formats` limits the decoders Pillow tries: a GIF, SVG or PDF is never opened.
            probe = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
            width, height = probe.size
            if width * height > PHOTO_MAX_PIXELS:
                raise PhotoRejected
            probe.verify()
            # verify() leaves the image unusable and misses a truncated JPEG: decode it all.
            image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
            image.load()
            return _reencoded(image)
    except PhotoRejected:
        raise
    # Decoders meet hostile input here and fail in many ways (OSError, SyntaxError,
    # struct.error, DecompressionBombError...): any failure means "not a photo we accept".
    except Exception as exc:
        raise PhotoRejected from exc


def _reencoded(image: Image.Image) -> Photo:
    # Phones record rotation in EXIF; apply it before the EXIF is dropped.
    image = ImageOps.exif_transpose(image)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Saved without `exif`, `icc_profile` or text chunks: no metadata carries over.
    if _has_alpha(image):
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return Photo(out.getvalue(), "image/png")
    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    return Photo(out.getvalue(), "image/jpeg")
