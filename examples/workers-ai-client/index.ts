/**
 * Code as written for Workers AI: `env.AI.run('@cf/microsoft/resnet-50', { image })`. POST an image to
 * /classify; anything else goes to edge-resnet's own HTTP API through the same binding.
 */
interface ClientEnv {
  AI: {
    run(model: string, inputs: { image: number[] }): Promise<Array<{ label: string; score: number }>>;
    fetch(request: Request): Promise<Response>;
  };
}

export default {
  async fetch(request: Request, env: ClientEnv): Promise<Response> {
    if (request.method === 'POST' && new URL(request.url).pathname === '/classify') {
      const image = [...new Uint8Array(await request.arrayBuffer())];
      try {
        return Response.json(await env.AI.run('@cf/microsoft/resnet-50', { image }));
      } catch (err) {
        return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 400 });
      }
    }
    return env.AI.fetch(request);
  },
};
