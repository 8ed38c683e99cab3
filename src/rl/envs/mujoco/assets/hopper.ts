// Hopper (Gymnasium Hopper-v5's model), written for fimkit from the documented facts: a torso,
// thigh, leg and foot capsule in the x–z plane, a planar root (slide x, slide z, hinge y), three
// hinged joints driven by 200-gear motors, RK4 at 2 ms. Body frames sit at each joint (the
// published file places them elsewhere; frames change no dynamics, only xpos, which Hopper never
// reads). Masses come from the capsules at density 1000. Visual-only elements are left out.
export const HOPPER_XML = `
<mujoco model="fimkit-hopper">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.002" integrator="RK4"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom contype="1" conaffinity="1" condim="1" margin="0.001" solref="0.02 1" solimp="0.8 0.8 0.01"/>
    <default class="root">
      <joint limited="false" armature="0" damping="0" stiffness="0"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="20 20 0.125" condim="3"/>
    <body name="torso" pos="0 0 1.25">
      <joint name="rootx" class="root" type="slide" axis="1 0 0"/>
      <joint name="rootz" class="root" type="slide" axis="0 0 1" ref="1.25"/>
      <joint name="rooty" class="root" type="hinge" axis="0 1 0"/>
      <geom name="torso_geom" type="capsule" fromto="0 0 0.2 0 0 -0.2" size="0.05" friction="0.9 0.005 0.0001"/>
      <body name="thigh" pos="0 0 -0.2">
        <joint name="thigh_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
        <geom name="thigh_geom" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.05" friction="0.9 0.005 0.0001"/>
        <body name="leg" pos="0 0 -0.45">
          <joint name="leg_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
          <geom name="leg_geom" type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" friction="0.9 0.005 0.0001"/>
          <body name="foot" pos="0 0 -0.5">
            <joint name="foot_joint" type="hinge" axis="0 -1 0" range="-45 45"/>
            <geom name="foot_geom" type="capsule" fromto="-0.13 0 0 0.26 0 0" size="0.06" friction="2.0 0.005 0.0001"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="thigh" joint="thigh_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="leg" joint="leg_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="foot" joint="foot_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
