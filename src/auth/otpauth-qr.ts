/**
 * The otpauth URI as a QR code, rendered on the server as SVG so the page can show it as an
 * `<img>` (a `data:` URL, allowed by the CSP's img-src) without inline script or style, and as
 * text blocks for the terminal.
 */
import QRCode from 'qrcode';

/** An SVG document of the QR code (error correction M, 4-module quiet zone). */
export function otpauthQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } });
}

/** The SVG as a `data:` URL for an `<img src>`. */
export async function otpauthQrDataUrl(uri: string): Promise<string> {
  return `data:image/svg+xml;base64,${Buffer.from(await otpauthQrSvg(uri), 'utf8').toString('base64')}`;
}

/** The QR code drawn with Unicode half blocks, for `switchboard 2fa enrol`. */
export function otpauthQrTerminal(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'utf8', errorCorrectionLevel: 'M', margin: 2 });
}
