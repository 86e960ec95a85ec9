/**
 * The registry client's vocabulary: OCI descriptors, platforms, image manifests and indexes, and
 * the options a daemon passes in. Types only; no I/O.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** What docker keeps per registry in ~/.docker/config.json (an AuthConfig without the address). */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token from an earlier login; exchanged for access tokens with a POST. */
  identitytoken?: string;
  /** A bearer token sent as is, skipping the token flow. */
  registrytoken?: string;
}

export interface ClientOptions {
  /** Credentials per registry host as users name it: 'docker.io', '127.0.0.1:5000'. */
  credentials?: (registryHost: string) => Credentials | undefined;
  /**
   * Hosts that may be reached over plain HTTP or HTTPS without certificate verification:
   * host[:port] or CIDR. 127.0.0.0/8, ::1 and localhost always are.
   */
  insecureRegistries?: string[];
  /** registry-mirrors: base URLs (https://mirror.example, http://127.0.0.1:5001) tried first for docker.io pulls. */
  mirrors?: string[];
  userAgent?: string;
  /** Concurrent fetchBlob transfers; further calls wait. Default 3. */
  maxConcurrentDownloads?: number;
  /** Retries after network errors and 5xx/429 answers, with exponential backoff from 200 ms. Default 3. */
  retries?: number;
  /** Socket inactivity limit per request, in ms. Default 60 000. */
  timeoutMs?: number;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ResolveResult {
  manifest: ImageManifest;
  /** Digest of manifestBytes: the platform's image manifest (not the index). */
  manifestDigest: string;
  manifestBytes: Buffer;
  mediaType: string;
  /** Digest of the manifest list / OCI index the manifest was chosen from, when there was one. */
  indexDigest?: string;
  /** The image config blob, fetched and verified against manifest.config. */
  config: Buffer;
}

export interface PushBlobOptions {
  /** A repository path on the same registry that holds the blob: tried as a cross-repository mount. */
  mountFrom?: string;
  onProgress?: (cur: number, total: number) => void;
  /** Blobs up to this size go up in one PUT; larger ones in PATCH chunks of this size. Default 8 MiB. */
  chunkSize?: number;
  /** Send blobs larger than chunkSize as one streamed PATCH (as docker does) instead of chunks. */
  streamed?: boolean;
}

export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;
