// `npm run triton -- --grpc-port N [--http-port M] [--metrics-port K] [--models a,b]`: one tritonserver
// replica on the test repository (scripts/triton/repository), for trying a client by hand or for a
// benchmark. Prints one ready line, runs until SIGINT/SIGTERM, then stops the server. (It lives here,
// not under test/, because `node --test dist/test/` runs every file under test/ as a test.)

import { repositoryModels, startTriton, type TritonPorts } from '../../test/support/triton';

const USAGE = 'usage: npm run triton -- --grpc-port N [--http-port M] [--metrics-port K] [--models a,b]';

function parse(argv: string[]): { ports: Partial<TritonPorts>; models: string[] | undefined } {
  const ports: Partial<TritonPorts> = {};
  let models: string[] | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    const port = (name: keyof TritonPorts) => {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
        throw new Error(`${flag} must be a port number in 1..65535, got ${JSON.stringify(value)}`);
      }
      ports[name] = Number(value);
    };
    if (flag === '--grpc-port') port('grpc');
    else if (flag === '--http-port') port('http');
    else if (flag === '--metrics-port') port('metrics');
    else if (flag === '--models') models = value.split(',').filter((m) => m !== '');
    else throw new Error(`unknown option ${JSON.stringify(flag)}\n${USAGE}`);
  }
  if (ports.grpc === undefined) throw new Error(`--grpc-port is required\n${USAGE}`);
  return { ports, models };
}

async function main(): Promise<void> {
  const { ports, models } = parse(process.argv.slice(2));
  const cluster = await startTriton({ ports: () => ports, ...(models ? { models } : {}) });
  const replica = cluster.replicas[0]!;
  process.stdout.write(
    `triton ready grpc=${replica.grpcAddress} http=127.0.0.1:${replica.httpPort} metrics=127.0.0.1:${replica.metricsPort} ` +
      `models=${(models ?? repositoryModels()).join(',')} pid=${replica.pid}\n`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`triton: ${signal}, stopping\n`);
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`triton: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
