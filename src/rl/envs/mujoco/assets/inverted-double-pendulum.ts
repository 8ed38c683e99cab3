// InvertedDoublePendulum (Gymnasium InvertedDoublePendulum-v5's model), written for fimkit from
// the documented facts: a cart (capsule along x, radius 0.1, half-length 0.1) on a slider limited
// to ±1 m (limit margin 0.01), two 0.6 m poles (capsules of radius 0.045) on unlimited hinges, all
// joints damped 0.05, a 500-gear motor on the slider with control in [−1, 1], RK4 at 10 ms. The
// gravity has a 1e-5 x component (so that the upright state is not an exact equilibrium), and a
// site marks the tip of the second pole (its height decides termination). No geom collides.
export const INVERTED_DOUBLE_PENDULUM_XML = `
<mujoco model="fimkit-inverted-double-pendulum">
  <compiler inertiafromgeom="true"/>
  <option timestep="0.01" gravity="1e-5 0 -9.81" integrator="RK4"/>
  <default>
    <joint damping="0.05"/>
    <geom contype="0" friction="1 0.1 0.1"/>
  </default>
  <worldbody>
    <body name="cart" pos="0 0 0">
      <joint name="slider" type="slide" axis="1 0 0" limited="true" range="-1 1" margin="0.01"/>
      <geom name="cart" type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.1"/>
      <body name="pole" pos="0 0 0">
        <joint name="hinge" type="hinge" axis="0 1 0"/>
        <geom name="cpole" type="capsule" fromto="0 0 0 0 0 0.6" size="0.045"/>
        <body name="pole2" pos="0 0 0.6">
          <joint name="hinge2" type="hinge" axis="0 1 0"/>
          <geom name="cpole2" type="capsule" fromto="0 0 0 0 0 0.6" size="0.045"/>
          <site name="tip" pos="0 0 0.6" size="0.01"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear="500" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
