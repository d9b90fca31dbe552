"""Images are decoded and encoded anew with Pillow before they are stored.

Why: a photo straight from a phone carries EXIF (camera, time, and often the GPS position of the
person's home); re-encoding from pixels keeps none of it (EXIF, XMP, comments, ICC text) and also
drops whatever a crafted file hid after its image data. The orientation EXIF asked for is applied
to the pixels first. A file claiming more than ``max_pixels`` pixels is refused before it is
decoded (a decompression bomb: a small PNG that inflates to gigabytes); a corrupt or truncated
image is refused; a side longer than ``max_side`` is scaled down. Avatars get square variants
(64 and 256 px, WebP) for lists and profile pages.

Everything here is CPU work: callers run it in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from domain.files import ImageRejected
from files.cids import CidBuilder
from files.uploads import remove

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
AVATAR_SIZES = (64, 256)


@dataclass(frozen=True, slots=True)
class Encoded:
    path: str
    media_type: str
    size: int
    cid: str
    width: int
    height: int
    variant: str | None = None


def _open(path: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(
                    f"The image has {width}x{height} pixels; at most {max_pixels} are accepted."
                )
            image.load()
    except ImageRejected:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageRejected(
            f"The image cannot be decoded safely ({type(error).__name__})."
        ) from None
    except Image.DecompressionBombWarning:
        raise ImageRejected("The image is too large to decode.") from None
    return image


def _save(image: Image.Image, media_type: str, temp_dir: str, **options: object) -> Encoded:
    with tempfile.NamedTemporaryFile(dir=temp_dir, prefix="image-", delete=False) as out:
        path = out.name
        try:
            image.save(out, FORMATS[media_type], **options)
        except BaseException:
            remove([path])
            raise
    builder = CidBuilder()
    with open(path, "rb") as written:
        while chunk := written.read(1 << 20):
            builder.update(chunk)
    return Encoded(path, media_type, builder.size, builder.cid(), image.width, image.height)


def _clean(image: Image.Image) -> Image.Image:
    """The pixels only: orientation applied, no metadata, a mode every format can write."""
    oriented = ImageOps.exif_transpose(image) or image
    if oriented.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = oriented.mode in ("P", "PA") and "transparency" in oriented.info
        oriented = oriented.convert("RGBA" if has_alpha or "A" in oriented.mode else "RGB")
    pixels = Image.new(oriented.mode, oriented.size)
    pixels.paste(oriented)
    return pixels


def reencode(
    path: str, media_type: str, *, max_pixels: int, max_side: int, temp_dir: str
) -> Encoded:
    """The image at ``path`` encoded anew in its own format (first frame of an animation)."""
    with _open(path, max_pixels) as image:
        pixels = _clean(image)
    if max(pixels.size) > max_side:
        pixels.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if media_type == "image/jpeg" and pixels.mode not in ("RGB", "L"):
        pixels = pixels.convert("RGB")
    options: dict[str, object] = (
        {"quality": 90} if media_type in ("image/jpeg", "image/webp") else {}
    )
    return _save(pixels, media_type, temp_dir, **options)


def avatar_variants(path: str, *, max_pixels: int, temp_dir: str) -> list[Encoded]:
    """Square WebP copies of an (already re-encoded) image, one per ``AVATAR_SIZES`` side."""
    with _open(path, max_pixels) as image:
        pixels = _clean(image)
    found = []
    for side in AVATAR_SIZES:
        square = ImageOps.fit(pixels, (side, side), Image.Resampling.LANCZOS)
        encoded = _save(square, "image/webp", temp_dir, quality=85)
        found.append(
            Encoded(
                encoded.path,
                encoded.media_type,
                encoded.size,
                encoded.cid,
                side,
                side,
                variant=str(side),
            )
        )
    return found
