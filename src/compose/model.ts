/**
 * The normalised compose model: what `load` produces after merging, interpolation, extends,
 * include and profiles, and what `config` prints. Long forms everywhere (ports, volumes,
 * depends_on, networks), environment as a map, commands as argument lists.
 */

export type Dict = Record<string, unknown>;

export interface PortConfig {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: string;
  mode?: string;
}

export interface VolumeMount {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  volume?: { nocopy?: boolean };
  bind?: { create_host_path?: boolean; propagation?: string };
  tmpfs?: { size?: number | string; mode?: number };
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required: boolean;
  restart?: boolean;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
}

export interface Service extends Dict {
  name: string;
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string | null>; target?: string; labels?: Record<string, string> };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: VolumeMount[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  depends_on?: Record<string, DependsOn>;
  healthcheck?: Dict;
  labels?: Record<string, string>;
  profiles?: string[];
  scale?: number;
  deploy?: Dict;
}

export interface TopLevelResource extends Dict {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
}

export interface Project {
  name: string;
  workingDir: string;
  files: string[];
  services: Record<string, Service>;
  networks: Record<string, TopLevelResource>;
  volumes: Record<string, TopLevelResource>;
  /** Top-level secrets and configs; only file-based ones can be mounted (a bind of the file). */
  secrets: Record<string, Dict>;
  configs: Record<string, Dict>;
  /** Services dropped because their profile is not active (for orphan detection, compose leaves them be). */
  disabled: Record<string, Service>;
  environment: Record<string, string>;
}

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
} as const;

/** The version written into the labels (docker compose v2 writes its own; tools only read it). */
export const COMPOSE_VERSION = '2.29.0';
