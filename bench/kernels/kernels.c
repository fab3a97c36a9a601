// CPU-bound kernels for the compute benchmarks, compiled to freestanding wasm32 at bench time.
// Each export returns a checksum so the work cannot be optimized away and results can be
// compared across runtimes.
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

// ---- sha256 over a buffer in linear memory ----------------------------------------------------
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static uint8_t data[64 << 20];

EXPORT("buffer") uint8_t *buffer(void) { return data; }

// Hashes the first `len` bytes of the buffer (len a multiple of 64, padding omitted).
EXPORT("sha256") uint32_t sha256(uint32_t len) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  for (uint32_t i = 0; i + 64 <= len; i += 64) block(h, data + i);
  return h[0] ^ h[7];
}

// ---- n-body -------------------------------------------------------------------------------------
typedef struct { double x, y, z, vx, vy, vz, m; } Body;
static Body bodies[5];

static void nbody_init(void) {
  const double PI = 3.141592653589793, SM = 4 * PI * PI, DPY = 365.24;
  Body init[5] = {
      {0, 0, 0, 0, 0, 0, SM},
      {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
       1.66007664274403694e-03 * DPY, 7.69901118419740425e-03 * DPY, -6.90460016972063023e-05 * DPY,
       9.54791938424326609e-04 * SM},
      {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
       -2.76742510726862411e-03 * DPY, 4.99852801234917238e-03 * DPY, 2.30417297573763929e-05 * DPY,
       2.85885980666130812e-04 * SM},
      {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
       2.96460137564761618e-03 * DPY, 2.37847173959480950e-03 * DPY, -2.96589568540237556e-05 * DPY,
       4.36624404335156298e-05 * SM},
      {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
       2.68067772490389322e-03 * DPY, 1.62824170038242295e-03 * DPY, -9.51592254519715870e-05 * DPY,
       5.15138902046611451e-05 * SM}};
  for (int i = 0; i < 5; i++) bodies[i] = init[i];
}

EXPORT("nbody") double nbody(int steps) {
  nbody_init();
  const double dt = 0.01;
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < 5; i++)
      for (int j = i + 1; j < 5; j++) {
        double dx = bodies[i].x - bodies[j].x, dy = bodies[i].y - bodies[j].y,
               dz = bodies[i].z - bodies[j].z;
        double d2 = dx * dx + dy * dy + dz * dz;
        double mag = dt / (d2 * __builtin_sqrt(d2));
        bodies[i].vx -= dx * bodies[j].m * mag; bodies[i].vy -= dy * bodies[j].m * mag;
        bodies[i].vz -= dz * bodies[j].m * mag; bodies[j].vx += dx * bodies[i].m * mag;
        bodies[j].vy += dy * bodies[i].m * mag; bodies[j].vz += dz * bodies[i].m * mag;
      }
    for (int i = 0; i < 5; i++) {
      bodies[i].x += dt * bodies[i].vx; bodies[i].y += dt * bodies[i].vy;
      bodies[i].z += dt * bodies[i].vz;
    }
  }
  return bodies[0].x + bodies[1].y + bodies[2].z;
}

// ---- matrix multiply ----------------------------------------------------------------------------
#define N_MAX 256
static double A[N_MAX * N_MAX], B[N_MAX * N_MAX], C[N_MAX * N_MAX];

EXPORT("matmul") double matmul(int n, int reps) {
  for (int i = 0; i < n * n; i++) { A[i] = (i % 7) * 0.5; B[i] = (i % 5) * 0.25; }
  double sum = 0;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int k = 0; k < n; k++) acc += A[i * n + k] * B[k * n + j];
        C[i * n + j] = acc;
      }
    sum += C[(r * 31) % (n * n)];
  }
  return sum;
}

// ---- a small bytecode interpreter ---------------------------------------------------------------
enum { ADD, DEC, XOR, JNZ, HALT };

// Register machine: r0 = accumulator, r1 = counter, r2 = scratch.
EXPORT("interp") int interp(int iterations) {
  static const unsigned char program[] = {
      ADD, 0, 1,  // r0 += r1
      XOR, 2, 0,  // r2 ^= r0
      DEC, 1,     // r1 -= 1
      JNZ, 1, 0,  // if r1 goto 0
      HALT};
  int r[4] = {0, iterations, 0, 0};
  unsigned pc = 0;
  for (;;) {
    switch (program[pc]) {
      case ADD: r[program[pc + 1]] += r[program[pc + 2]]; pc += 3; break;
      case XOR: r[program[pc + 1]] ^= r[program[pc + 2]]; pc += 3; break;
      case DEC: r[program[pc + 1]] -= 1; pc += 2; break;
      case JNZ: pc = r[program[pc + 1]] ? program[pc + 2] : pc + 3; break;
      default: return r[0] ^ r[2];
    }
  }
}
