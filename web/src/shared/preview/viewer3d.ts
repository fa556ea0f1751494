// A small WebGL viewer for scans: flat-shaded triangles lit from the eye, turned by dragging or
// the arrow keys, zoomed by the wheel or +/-. Hand-written (about 150 lines) instead of three.js:
// the app needs to show one mesh, not a scene graph, and this keeps the app at two runtime
// dependencies. It is imported dynamically, so it and the parsers are a chunk of their own.
import { parseMesh, type Mesh, type MeshFormat } from "./mesh";

export { parseMesh };
export type { Mesh, MeshFormat };

const VERTEX = `
attribute vec3 position;
attribute vec3 normal;
uniform mat4 model;
uniform float zoom;
uniform float aspect;
varying float light;
void main() {
  vec4 turned = model * vec4(position, 1.0);
  vec3 n = normalize((model * vec4(normal, 0.0)).xyz);
  light = 0.25 + 0.75 * abs(n.z);
  float depth = 3.0 - turned.z;
  gl_Position = vec4(turned.x * zoom * 2.2 / aspect, turned.y * zoom * 2.2, (turned.z * -0.3), depth);
}`;

const FRAGMENT = `
precision mediump float;
varying float light;
void main() { gl_FragColor = vec4(vec3(0.93, 0.89, 0.80) * light, 1.0); }`;

export type Viewer = { dispose: () => void; rotate: (dx: number, dy: number) => void; zoomBy: (factor: number) => void };

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error("WebGL shader");
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader) ?? "WebGL shader");
  return shader;
}

function rotation(yaw: number, pitch: number): Float32Array {
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  // Column-major: yaw about Y, then pitch about X.
  return new Float32Array([cy, sp * sy, -cp * sy, 0, 0, cp, sp, 0, sy, -sp * cy, cp * cy, 0, 0, 0, 0, 1]);
}

/** Draws `mesh` on `canvas`; throws when the browser has no WebGL. */
export function mountViewer(canvas: HTMLCanvasElement, mesh: Mesh): Viewer {
  const gl = canvas.getContext("webgl", { preserveDrawingBuffer: true, antialias: true });
  if (!gl) throw new Error("WebGL is not available");
  const program = gl.createProgram();
  if (!program) throw new Error("WebGL program");
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program) ?? "WebGL link");
  gl.useProgram(program);
  const buffers = (["position", "normal"] as const).map((name) => {
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, name === "position" ? mesh.positions : mesh.normals, gl.STATIC_DRAW);
    const location = gl.getAttribLocation(program, name);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, 3, gl.FLOAT, false, 0, 0);
    return buffer;
  });
  const model = gl.getUniformLocation(program, "model");
  const zoomAt = gl.getUniformLocation(program, "zoom");
  const aspectAt = gl.getUniformLocation(program, "aspect");
  gl.enable(gl.DEPTH_TEST);
  let yaw = 0.6, pitch = -0.5, zoom = 1;
  let frame = 0;
  const draw = () => {
    frame = 0;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    gl.viewport(0, 0, width, height);
    gl.clearColor(0.12, 0.16, 0.22, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.uniformMatrix4fv(model, false, rotation(yaw, pitch));
    gl.uniform1f(zoomAt, zoom);
    gl.uniform1f(aspectAt, width / height);
    gl.drawArrays(gl.TRIANGLES, 0, mesh.triangles * 3);
  };
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const rotate = (dx: number, dy: number) => {
    yaw += dx;
    pitch = Math.max(-1.5, Math.min(1.5, pitch + dy));
    redraw();
  };
  const zoomBy = (factor: number) => {
    zoom = Math.max(0.2, Math.min(8, zoom * factor));
    redraw();
  };
  let dragging: { x: number; y: number } | null = null;
  const down = (event: PointerEvent) => {
    dragging = { x: event.clientX, y: event.clientY };
    canvas.setPointerCapture(event.pointerId);
  };
  const move = (event: PointerEvent) => {
    if (!dragging) return;
    rotate((event.clientX - dragging.x) * 0.01, (event.clientY - dragging.y) * 0.01);
    dragging = { x: event.clientX, y: event.clientY };
  };
  const up = () => (dragging = null);
  const wheel = (event: WheelEvent) => {
    event.preventDefault();
    zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
  };
  const key = (event: KeyboardEvent) => {
    const moves: Record<string, () => void> = {
      ArrowLeft: () => rotate(-0.15, 0),
      ArrowRight: () => rotate(0.15, 0),
      ArrowUp: () => rotate(0, -0.15),
      ArrowDown: () => rotate(0, 0.15),
      "+": () => zoomBy(1.2),
      "=": () => zoomBy(1.2),
      "-": () => zoomBy(1 / 1.2),
    };
    const action = moves[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("wheel", wheel, { passive: false });
  canvas.addEventListener("keydown", key);
  const resize = new ResizeObserver(redraw);
  resize.observe(canvas);
  draw();
  return {
    rotate,
    zoomBy,
    dispose: () => {
      if (frame) cancelAnimationFrame(frame);
      resize.disconnect();
      canvas.removeEventListener("pointerdown", down);
      canvas.removeEventListener("pointermove", move);
      canvas.removeEventListener("pointerup", up);
      canvas.removeEventListener("wheel", wheel);
      canvas.removeEventListener("keydown", key);
      buffers.forEach((buffer) => gl.deleteBuffer(buffer));
      gl.deleteProgram(program);
    },
  };
}
