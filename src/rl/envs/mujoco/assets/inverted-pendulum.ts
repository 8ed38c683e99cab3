// InvertedPendulum (Gymnasium InvertedPendulum-v5's model), written for fimkit from the documented
// facts: a cart (capsule along x, radius 0.1, half-length 0.1) on a slider limited to ±1 m with
// damping 1, a pole capsule (radius 0.049, 0.6 m, tilted 1 mm in x so that it starts off balance)
// on a hinge limited to ±90°, a 100-gear motor on the slider with control in [−3, 3], RK4 at 20 ms.
// No geom collides; the decorative rail is left out.
export const INVERTED_PENDULUM_XML = `
<mujoco model="fimkit-inverted-pendulum">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.02" gravity="0 0 -9.81" integrator="RK4"/>
  <default>
    <joint limited="true" armature="0" damping="1"/>
    <geom contype="0" friction="1 0.1 0.1"/>
  </default>
  <worldbody>
    <body name="cart" pos="0 0 0">
      <joint name="slider" type="slide" axis="1 0 0" range="-1 1"/>
      <geom name="cart" type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.1"/>
      <body name="pole" pos="0 0 0">
        <joint name="hinge" type="hinge" axis="0 1 0" range="-90 90"/>
        <geom name="cpole" type="capsule" fromto="0 0 0 0.001 0 0.6" size="0.049"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear="100" ctrllimited="true" ctrlrange="-3 3"/>
  </actuator>
</mujoco>
`;
