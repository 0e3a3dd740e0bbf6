/**
 * The message types a client knows, by full method name (`flight.flight_service.queryFlight`),
 * from the .proto files it loaded (apps/rpc/proto.ts does the loading and the coding).
 */
import { findService, loadProto, methodsOf, servicesOf, type ProtoRoot, type RpcMethod } from '../proto.ts';
import { RpcError, RpcErrorCode } from '../contracts.ts';

export class ProtoRegistry {
  private readonly methods = new Map<string, RpcMethod>();

  /** Loads a .proto (a path, the text, or a protobufjs Root) and registers all its methods. */
  load(proto: string | ProtoRoot): ProtoRoot {
    const root = typeof proto === 'string' ? loadProto(proto) : proto;
    for (const service of servicesOf(root)) for (const m of methodsOf(service)) this.methods.set(m.fullName, m);
    return root;
  }

  /** The service's methods (by full or bare service name; see findService). */
  service(root: ProtoRoot, name?: string): RpcMethod[] {
    return methodsOf(findService(root, name));
  }

  method(fullName: string): RpcMethod {
    const name = fullName.startsWith('.') ? fullName.slice(1) : fullName;
    const m = this.methods.get(name);
    if (m) return m;
    throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, `the client knows no method "${fullName}": load its .proto first (client.load(path))`, { method: fullName });
  }
}
