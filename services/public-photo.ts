import sharp from 'sharp';
import { DomainError } from '../domain/errors';

/** Photo formats the public may upload: what phones' cameras and browsers send, and sharp rewrites. */
const publicPhotoFormats = { jpeg: 'jpeg', png: 'png', webp: 'webp' } as const;

/** Largest photo the public may upload, in bytes. */
export const maxPublicPhotoBytes = 10 * 1024 * 1024;

/** Most photos one complaint may carry from the public form. */
export const maxPublicPhotos = 5;

/** The largest picture decoded, in pixels (a 50-megapixel camera): more is refused, not decoded. */
const maxPixels = 50_000_000;

/**
 * A public photo with every metadata block (EXIF with its GPS position, XMP, IPTC, ICC, comments)
 * removed: the image is decoded and encoded again, upright as its EXIF orientation said, and sharp
 * writes no metadata unless asked. Content that is not a JPEG, PNG or WebP image is refused as
 * `invalid_input` naming `field`.
 */
export async function stripPhotoMetadata(bytes: Buffer, field: string): Promise<{ bytes: Buffer; extension: string }> {
  const refuse = (why: string) =>
    new DomainError('invalid_input', `${field}: 照片须为 JPEG、PNG 或 WebP 图片 / a photo must be a JPEG, PNG or WebP image (${why})`, [
      { path: field, message: '照片须为 JPEG、PNG 或 WebP 图片 / a photo must be a JPEG, PNG or WebP image' },
    ]);
  let format: string | undefined;
  try {
    format = (await sharp(bytes, { limitInputPixels: maxPixels }).metadata()).format;
  } catch {
    throw refuse('unreadable');
  }
  const output = format && format in publicPhotoFormats ? publicPhotoFormats[format as keyof typeof publicPhotoFormats] : undefined;
  if (!output) throw refuse(format ?? 'unknown');
  try {
    const stripped = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().toFormat(output).toBuffer();
    return { bytes: stripped, extension: output === 'jpeg' ? 'jpg' : output };
  } catch {
    throw refuse('damaged');
  }
}
