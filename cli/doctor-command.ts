export async function runDoctorCommand (_argv: string[]): Promise<number> { return 0 }
