/** OCI image config (application/vnd.oci.image.config.v1+json) as berth reads and writes it. */
export interface ContainerConfigPart {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: unknown;
  Shell?: string[];
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfigPart;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [k: string]: unknown;
}

export interface ImageRecord {
  id: string; // sha256:<hex of config>
  created: string; // when berth registered it
  config: ImageConfig;
  chainIds: string[];
  size: number; // sum of layer sizes
  repoDigests: string[];
  lastTagTime?: string;
}

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  size: number;
  link: string; // short name under layers/l/
}
