// Types of crops.mjs for the TypeScript benchmarks (bench-server.ts).
export function listMarrowCrops(dataDir: string): string[];
export function buildCropFolder(dataDir: string, folder: string, count: number): string;
