// Swimmer (Gymnasium Swimmer-v5's model), written for fimkit from the documented facts: three
// 1 m capsules (radius 0.1, density 1000) linked by two hinges (±100°) driven by 150-gear motors,
// moving in the plane through a viscous medium (density 4000, viscosity 0.1; MuJoCo's
// inertia-based fluid model), RK4 at 10 ms. Nothing collides, so the decorative floor of the
// published file is left out. The root is slide x, slide y and a hinge about z, all armature 0.1.
export const SWIMMER_XML = `
<mujoco model="fimkit-swimmer">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.01" integrator="RK4" density="4000" viscosity="0.1"/>
  <default>
    <joint armature="0.1"/>
    <geom contype="0" conaffinity="0" condim="1" density="1000"/>
  </default>
  <worldbody>
    <body name="torso" pos="0 0 0">
      <joint name="slider1" type="slide" axis="1 0 0"/>
      <joint name="slider2" type="slide" axis="0 1 0"/>
      <joint name="free_body_rot" type="hinge" axis="0 0 1"/>
      <geom name="torso_geom" type="capsule" fromto="1.5 0 0 0.5 0 0" size="0.1"/>
      <body name="mid" pos="0.5 0 0">
        <joint name="motor1_rot" type="hinge" axis="0 0 1" limited="true" range="-100 100"/>
        <geom name="mid_geom" type="capsule" fromto="0 0 0 -1 0 0" size="0.1"/>
        <body name="back" pos="-1 0 0">
          <joint name="motor2_rot" type="hinge" axis="0 0 1" limited="true" range="-100 100"/>
          <geom name="back_geom" type="capsule" fromto="0 0 0 -1 0 0" size="0.1"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="motor1" joint="motor1_rot" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="motor2" joint="motor2_rot" gear="150" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
