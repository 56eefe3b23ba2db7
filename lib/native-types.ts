/** Shape of the native addon's exports. Each area adds its functions here. */
export interface NativeSystemInfo {
  llama: { release: string; commit: string; libraryDir: string };
  backends: string[];
  devices: { name: string; description: string; type: string; memoryFree: number; memoryTotal: number }[];
  cpuFeatures: string;
  defaultThreads: number;
}

export interface NativeKernelDevice {
  kind: 'cpu' | 'cuda';
  usable: boolean;
  reason: string;
  name?: string;
  driverVersion?: number;
  runtimeVersion?: number;
  computeCapability?: string;
  memoryTotal?: number;
}

export interface NativeAddon {
  readonly variant: string;
  readonly abi: number;
  systemInfo(): NativeSystemInfo;
  kernelDevice(): NativeKernelDevice;
  echo(values: Float32Array): Float32Array;
  failWith(code: string): never;
  // Areas (kernels, engine, forge, value) extend this interface in their own modules.
  [name: string]: unknown;
}
