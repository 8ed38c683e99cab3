// Walker2d (Gymnasium Walker2d-v5's model), written for fimkit from the documented facts: the
// Hopper's torso with two legs (thigh, leg, foot each), a planar root, six hinges driven by
// 100-gear motors, RK4 at 2 ms, feet friction 1.9 (v5's change; v4 had 0.9 on the right foot).
// Both legs hang from the same point, so they overlap in the x–z plane; only the floor collides
// with them (conaffinity 0 on the body geoms). Body frames sit at each joint.
export const WALKER2D_XML = `
<mujoco model="fimkit-walker2d">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="0.002" integrator="RK4"/>
  <default>
    <joint limited="true" armature="0.01" damping="0.1"/>
    <geom contype="1" conaffinity="0" condim="3" density="1000" friction="0.7 0.1 0.1"/>
    <default class="root">
      <joint limited="false" armature="0" damping="0" stiffness="0"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="40 40 40" conaffinity="1" condim="3"/>
    <body name="torso" pos="0 0 1.25">
      <joint name="rootx" class="root" type="slide" axis="1 0 0"/>
      <joint name="rootz" class="root" type="slide" axis="0 0 1" ref="1.25"/>
      <joint name="rooty" class="root" type="hinge" axis="0 1 0"/>
      <geom name="torso_geom" type="capsule" fromto="0 0 0.2 0 0 -0.2" size="0.05" friction="0.9 0.1 0.1"/>
      <body name="thigh" pos="0 0 -0.2">
        <joint name="thigh_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
        <geom name="thigh_geom" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.05" friction="0.9 0.1 0.1"/>
        <body name="leg" pos="0 0 -0.45">
          <joint name="leg_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
          <geom name="leg_geom" type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" friction="0.9 0.1 0.1"/>
          <body name="foot" pos="0 0 -0.5">
            <joint name="foot_joint" type="hinge" axis="0 -1 0" range="-45 45"/>
            <geom name="foot_geom" type="capsule" fromto="0 0 0 0.2 0 0" size="0.06" friction="1.9 0.1 0.1"/>
          </body>
        </body>
      </body>
      <body name="thigh_left" pos="0 0 -0.2">
        <joint name="thigh_left_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
        <geom name="thigh_left_geom" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.05" friction="0.9 0.1 0.1"/>
        <body name="leg_left" pos="0 0 -0.45">
          <joint name="leg_left_joint" type="hinge" axis="0 -1 0" range="-150 0"/>
          <geom name="leg_left_geom" type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" friction="0.9 0.1 0.1"/>
          <body name="foot_left" pos="0 0 -0.5">
            <joint name="foot_left_joint" type="hinge" axis="0 -1 0" range="-45 45"/>
            <geom name="foot_left_geom" type="capsule" fromto="0 0 0 0.2 0 0" size="0.06" friction="1.9 0.1 0.1"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="thigh" joint="thigh_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="leg" joint="leg_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="foot" joint="foot_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="thigh_left" joint="thigh_left_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="leg_left" joint="leg_left_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="foot_left" joint="foot_left_joint" gear="100" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;
