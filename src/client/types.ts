/**
 * Engine API shapes the client reads and writes (Docker's field names; see
 * ../shared/reference/engine-api-swagger.yaml). Only what berth's clients use; every field
 * optional where the daemon may omit it.
 */

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface MountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

/** GET /containers/json */
export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: PortSummary[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: MountPoint[] | null;
}

/** GET /images/json */
export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

/** GET /images/{name}/history */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

/** DELETE /images/{name} */
export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface HostConfig {
  AutoRemove?: boolean;
  NetworkMode?: string;
  ConsoleSize?: [number, number];
}

/** POST /containers/create body */
export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings?: string[] | null;
}

/** POST /containers/{id}/wait */
export interface WaitResponse {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** GET /containers/{id}/json (the parts the CLI reads) */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  State?: { Status?: string; Running?: boolean; ExitCode?: number };
  Config?: ContainerConfig;
  [k: string]: unknown;
}

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

/** GET /version */
export interface VersionResponse {
  Platform?: { Name?: string };
  Components?: ComponentVersion[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

/** GET /info (the parts `berth info` prints) */
export interface InfoResponse {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  SystemStatus?: [string, string][] | null;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; NodeAddr?: string };
  Runtimes?: Record<string, unknown> | null;
  DefaultRuntime?: string;
  InitBinary?: string;
  ContainerdCommit?: { ID?: string };
  RuncCommit?: { ID?: string };
  InitCommit?: { ID?: string };
  SecurityOptions?: string[] | null;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Name?: string;
  DockerRootDir?: string;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  NEventsListener?: number;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  Labels?: string[] | null;
  ExperimentalBuild?: boolean;
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name: string; Secure?: boolean }> | null;
    Mirrors?: string[] | null;
  } | null;
  LiveRestoreEnabled?: boolean;
  Warnings?: string[] | null;
  [k: string]: unknown;
}
